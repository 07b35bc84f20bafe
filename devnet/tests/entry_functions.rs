//! The executor's table of entry functions matches the Move sources: the same
//! functions, each with the same number of parameters (the implicit
//! `&mut TxContext` aside). A drift here would make valid calls fail.

use std::collections::BTreeMap;

use daas_devnet::executor::ENTRY_FUNCTIONS;

fn move_entry_functions() -> BTreeMap<(String, String), usize> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/sources");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("sources") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let module = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_owned();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("\npublic fun ") {
            let test_only = rest[..at].trim_end().ends_with("#[test_only]");
            rest = &rest[at + "\npublic fun ".len()..];
            if test_only {
                continue;
            }
            let name = rest[..rest.find(['(', '<']).expect("params")]
                .trim()
                .to_owned();
            let open = rest.find('(').expect("(");
            let close = rest.find(')').expect(")");
            let params: Vec<&str> = rest[open + 1..close]
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            // Entry points take the context last; helpers and getters do not.
            if params.last().is_some_and(|p| p.ends_with("&mut TxContext")) {
                out.insert((module.clone(), name), params.len() - 1);
            }
        }
    }
    out
}

#[test]
fn the_executor_knows_every_entry_function_with_its_arity() {
    let from_move = move_entry_functions();
    let from_rust: BTreeMap<(String, String), usize> = ENTRY_FUNCTIONS
        .iter()
        .map(|(m, f, n)| (((*m).to_owned(), (*f).to_owned()), *n))
        .collect();
    assert_eq!(from_rust, from_move);
}
