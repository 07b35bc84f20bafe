//! A small reader of our Move sources: finds the event structs (`has copy,
//! drop`, not `store`, and emitted by the module: `emit(Name {`) and lists
//! their fields in declaration order. Enough for our own package's style; not
//! a Move parser.

use std::{collections::BTreeMap, path::Path};

/// `"module::Struct"` -> `[(field, type)]` for every `public struct … has copy, drop { … }`
/// its module emits.
pub fn event_structs(sources: &Path) -> Result<BTreeMap<String, Vec<(String, String)>>, String> {
    let mut out = BTreeMap::new();
    let mut entries: Vec<_> = std::fs::read_dir(sources)
        .map_err(|e| format!("{}: {e}", sources.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "move"))
        .collect();
    entries.sort();
    for path in entries {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        out.extend(parse_events(&text)?);
    }
    Ok(out)
}

/// Parses one module's source text.
pub fn parse_events(text: &str) -> Result<BTreeMap<String, Vec<(String, String)>>, String> {
    let text = strip_comments(text);
    let module = text
        .split("module ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|path| path.split("::").nth(1))
        .map(|m| m.trim().to_owned())
        .ok_or("no `module daas::name;` header")?;
    let mut out = BTreeMap::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("public struct ") {
        rest = &rest[at + "public struct ".len()..];
        let header_end = rest.find(['{', ';']).ok_or("unterminated struct")?;
        let header = &rest[..header_end];
        let name = header
            .split_whitespace()
            .next()
            .ok_or("struct without a name")?
            .to_owned();
        let abilities = header.split(" has ").nth(1).unwrap_or("");
        let is_event = abilities.contains("copy")
            && abilities.contains("drop")
            && !abilities.contains("store")
            && text.contains(&format!("emit({name} {{"));
        if !is_event || rest.as_bytes()[header_end] != b'{' {
            continue;
        }
        let body_end = rest[header_end..]
            .find('}')
            .ok_or("unterminated struct body")?
            + header_end;
        let body = &rest[header_end + 1..body_end];
        let fields = body
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| {
                let (n, t) = f
                    .split_once(':')
                    .ok_or_else(|| format!("{name}: field without a type: {f}"))?;
                Ok((
                    n.trim().to_owned(),
                    t.split_whitespace().collect::<String>(),
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        out.insert(format!("{module}::{name}"), fields);
    }
    Ok(out)
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
