//! Manifests are tenant bytes: parsing and checking them must never panic.
#![no_main]

use daas_domain::{kinds, manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let info = &kinds::KINDS[usize::from(selector) % kinds::KINDS.len()];
    let claimed = manifest::Claimed {
        api_version: info.api_version,
        kind: info.kind,
        namespace: if info.namespaced { "team-a" } else { "" },
        name: "web",
    };
    let _ = manifest::parse(bytes, info, claimed);
});
