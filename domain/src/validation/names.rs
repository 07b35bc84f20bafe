//! Names, keys and values as `k8s.io/apimachinery/pkg/util/validation`
//! checks them. Each function returns why the text is refused, or `Ok`.
//! Every rule here is ASCII-only, so NUL, control characters and any
//! non-ASCII byte are refused by construction.

/// Longest DNS-1123 label / DNS-1035 label / qualified-name part.
pub const LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain.
pub const SUBDOMAIN_MAX: usize = 253;

fn alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A DNS-1123 label: 1-63 of `[a-z0-9-]`, starting and ending alphanumeric.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > LABEL_MAX {
        return Err(format!("{s:?} must be 1-63 characters"));
    }
    let inner = s.chars().all(|c| alnum_lower(c) || c == '-');
    let ends = s.starts_with(alnum_lower) && s.ends_with(alnum_lower);
    if inner && ends {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)"
        ))
    }
}

/// A DNS-1035 label (Service names): a DNS-1123 label that starts with a letter.
pub fn dns1035_label(s: &str) -> Result<(), String> {
    dns1123_label(s)?;
    if s.starts_with(|c: char| c.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a DNS-1035 label (it must start with a letter)"
        ))
    }
}

/// A DNS-1123 subdomain: at most 253 characters of dot-separated labels.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > SUBDOMAIN_MAX {
        return Err(format!("{s:?} must be 1-253 characters"));
    }
    if s.split('.').all(|l| dns1123_label(l).is_ok()) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', each part starting and ending with a letter or digit)"
        ))
    }
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters.
fn name_part(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    !s.is_empty()
        && s.len() <= LABEL_MAX
        && s.starts_with(alnum)
        && s.ends_with(alnum)
        && s.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
}

/// A qualified name (label and annotation keys): an optional DNS-1123
/// subdomain prefix and `/`, then a name part of at most 63 characters.
pub fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns1123_subdomain(p).map_err(|e| format!("prefix of {s:?}: {e}"))?;
    }
    if name_part(name) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a qualified name (an optional DNS subdomain and '/', then 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
        ))
    }
}

/// A label value: empty, or a name part of at most 63 characters.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() || name_part(s) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
        ))
    }
}

/// A ConfigMap or Secret key: 1-253 of `[-._a-zA-Z0-9]`, not `.` or `..`,
/// not starting with `..`.
pub fn config_map_key(s: &str) -> Result<(), String> {
    let chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if s.is_empty() || s.len() > SUBDOMAIN_MAX || !chars {
        return Err(format!(
            "{s:?} is not a valid key (1-253 letters, digits, '-', '_' or '.')"
        ));
    }
    if s == "." || s.starts_with("..") {
        return Err(format!(
            "{s:?} is not a valid key (it may not be '.' or start with '..')"
        ));
    }
    Ok(())
}

/// An IANA service name (port names): 1-15 of `[a-z0-9-]`, at least one
/// letter, no leading, trailing or doubled `-`.
pub fn port_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 15
        && s.chars().all(|c| alnum_lower(c) || c == '-')
        && s.chars().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a port name (1-15 lower-case letters, digits and '-', with at least one letter, no leading, trailing or doubled '-')"
        ))
    }
}

/// A port number: 1-65535.
pub fn port_number(n: i64) -> Result<(), String> {
    if (1..=65_535).contains(&n) {
        Ok(())
    } else {
        Err(format!("{n} is not a port number (1-65535)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apimachinery_examples() {
        // Cases from apimachinery's validation_test.go.
        for ok in ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", &"a".repeat(63)] {
            assert!(dns1123_label(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "A",
            "ABC",
            "aBc",
            "A1",
            "a-1-",
            "-a-1",
            "a.b",
            "a_b",
            "a\0",
            &"a".repeat(64),
        ] {
            assert!(dns1123_label(bad).is_err(), "{bad:?}");
        }
        for ok in [
            "a.b.c",
            "a-1.b-2",
            "0.a",
            &format!("{}.{}", "a".repeat(63), "b".repeat(63)),
        ] {
            assert!(dns1123_subdomain(ok).is_ok(), "{ok}");
        }
        for bad in ["a..b", ".a", "a.", "A.b", "a\nb", &"a".repeat(254)] {
            assert!(dns1123_subdomain(bad).is_err(), "{bad:?}");
        }
        assert!(dns1035_label("web").is_ok());
        assert!(dns1035_label("1web").is_err());
        for ok in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "1234",
            "simple/simple",
            "example.com/Upper_Case",
            "a.b/c",
        ] {
            assert!(qualified_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "nospecialchars%^=@",
            "/simple",
            "Example.com/x",
            "x/",
            "a/b/c",
            "-x",
            "x_",
        ] {
            assert!(qualified_name(bad).is_err(), "{bad:?}");
        }
        for ok in ["", "simple", "UPPER", "with.dots_and-dash", "1"] {
            assert!(label_value(ok).is_ok(), "{ok}");
        }
        for bad in [
            "nospecial%",
            "-lead",
            "trail-",
            "a b",
            "a\u{0}",
            &"a".repeat(64),
        ] {
            assert!(label_value(bad).is_err(), "{bad:?}");
        }
        for ok in ["key", "KEY.yaml", "a-b_c.d", ".dotfile", "..x.."] {
            let expect = !ok.starts_with("..");
            assert_eq!(config_map_key(ok).is_ok(), expect, "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "\u{0}"] {
            assert!(config_map_key(bad).is_err(), "{bad:?}");
        }
        for ok in ["http", "web-80", "a1"] {
            assert!(port_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "80",
            "-http",
            "http-",
            "a--b",
            "HTTP",
            "sixteen-chars-xx",
        ] {
            assert!(port_name(bad).is_err(), "{bad:?}");
        }
        assert!(port_number(1).is_ok() && port_number(65_535).is_ok());
        assert!(
            port_number(0).is_err() && port_number(65_536).is_err() && port_number(-1).is_err()
        );
    }
}
