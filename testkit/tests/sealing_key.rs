//! `register_sealing_key` registers through the dev chain's executor: the
//! first key of the default cluster is version 1, a rotation version 2, and
//! both are in the chain's sealed events.

use daas_domain::{Decoded, Event, events};
use daas_testkit::{TestChain, free_addr, register_sealing_key};

#[tokio::test]
async fn keys_register_as_versions_1_then_2() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let chain = TestChain::start(dir.path(), free_addr()?, 60_000, 0).await?;
    let node = chain.node.clone();
    let versions = tokio::task::spawn_blocking(move || {
        anyhow::Ok((
            register_sealing_key(&node, &[1; 32])?,
            register_sealing_key(&node, &[2; 32])?,
        ))
    })
    .await??;
    assert_eq!(versions, (1, 2));
    let keys: Vec<(u64, Vec<u8>)> = chain.node.read(|c| {
        c.events
            .iter()
            .filter(|e| e.event.type_.name().as_str() == "SealingKeyRegistered")
            .filter_map(|e| {
                match events::decode("enclave", "SealingKeyRegistered", &e.event.contents) {
                    Ok(Decoded::Known(Event::SealingKeyRegistered(k))) => {
                        Some((k.version, k.public_key.0))
                    }
                    _ => None,
                }
            })
            .collect()
    });
    assert_eq!(keys, vec![(1, vec![1; 32]), (2, vec![2; 32])]);
    chain.stop().await;
    Ok(())
}
