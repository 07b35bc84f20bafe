//! Event contents are outside bytes: the decoder must never panic, and what it
//! accepts must re-encode to exactly the same bytes (BCS is canonical). An
//! accepted sealing key has 32 bytes and a version in 1..=u32::MAX, so the
//! ledger can take it as the sealed format's key, and applying any accepted
//! event other than a request (the `admission` target covers those) to a
//! ledger never panics.
#![no_main]

use daas_domain::{Decoded, Event, Ledger, events};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, contents)) = data.split_first() else {
        return;
    };
    let (module, name) = events::EVENT_TYPES[usize::from(selector) % events::EVENT_TYPES.len()];
    if let Ok(Decoded::Known(event)) = events::decode(module, name, contents) {
        assert_eq!(event.to_bcs(), contents, "accepted bytes must be canonical");
        if let Event::SealingKeyRegistered(k) = &event {
            assert_eq!(k.public_key.len(), 32, "an accepted sealing key is 32 bytes");
            assert!((1..=u64::from(u32::MAX)).contains(&k.version));
            let mut ledger = Ledger::default();
            ledger.apply(&event);
            assert_eq!(
                ledger.current_sealing_key(k.cluster_id).map(|(v, key)| (u64::from(v), key.to_vec())),
                Some((k.version, k.public_key.0.clone()))
            );
        } else if !matches!(event, Event::K8sApiRequest(_)) {
            Ledger::default().apply(&event);
        }
    }
});
