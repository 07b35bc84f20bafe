//! `daas apply -f` input is whatever a user hands it: any text gives documents
//! or an error, never a panic; well-formed documents come back as written.

use daas_cli::files;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,20}[a-z0-9]"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_gives_documents_or_an_error(text in "\\PC{0,400}") {
        let _ = files::parse("p.yaml", &text, None);
        let _ = files::parse("p.yaml", &text, Some("team-a"));
    }

    #[test]
    fn yaml_like_text_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("---\n".to_owned()),
                Just("apiVersion: v1\n".to_owned()),
                Just("kind: ConfigMap\n".to_owned()),
                Just("metadata:\n  name: x\n".to_owned()),
                Just("  namespace: [a\n".to_owned()),
                Just("data: {a: 1}\n".to_owned()),
                "[ -~]{0,20}\n",
            ],
            0..12,
        )
    ) {
        let _ = files::parse("p.yaml", &parts.concat(), Some("team-a"));
    }

    #[test]
    fn documents_come_back_as_written(names in proptest::collection::vec(name(), 1..6), ns in name()) {
        let text: String = names
            .iter()
            .map(|n| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\ndata:\n  k: v\n---\n"))
            .collect();
        let docs = files::parse("p.yaml", &text, Some(&ns)).expect("well-formed");
        prop_assert_eq!(docs.len(), names.len());
        for (d, n) in docs.iter().zip(&names) {
            prop_assert_eq!(&d.name, n);
            prop_assert_eq!(&d.namespace, &ns);
            let m: serde_json::Value = serde_json::from_slice(&d.manifest).expect("json");
            prop_assert_eq!(&m["metadata"]["namespace"], &serde_json::Value::String(ns.clone()));
            prop_assert_eq!(&m["data"]["k"], "v");
        }
    }
}
