//! `daas faucet`: SUI for gas and stake, from a faucet's `/v2/gas`.

use anyhow::Context;
use sui_sdk_types::Address;

use crate::stake::sui;

/// Asks the faucet at `url` to fund `to`. Without `amount` it sends Sui's own
/// request (what testnet and devnet faucets take); with it, our dev chain's
/// extension of that request.
pub async fn request(url: &str, to: Address, amount: Option<u64>) -> anyhow::Result<()> {
    // A faucet that refuses connections (restarting) is retried for 30 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match request_once(url, to, amount).await {
            Err(e) if refused_connection(&e) && std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

fn refused_connection(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_connect)
            || c.to_string().contains("error sending request")
    })
}

async fn request_once(url: &str, to: Address, amount: Option<u64>) -> anyhow::Result<()> {
    let Some(mist) = amount else {
        let faucet = sui_rpc::faucet::FaucetClient::new(url)
            .map_err(|e| anyhow::anyhow!("faucet URL {url:?}: {e}"))?;
        let coins = faucet
            .request(to)
            .await
            .map_err(|e| anyhow::anyhow!("the faucet at {url} refused or is unreachable: {e}"))?;
        let total: u64 = coins.iter().map(|c| c.amount).sum();
        println!("{to} received {} SUI from {url}", sui(total));
        return Ok(());
    };
    let body = serde_json::json!({
        "FixedAmountRequest": { "recipient": to.to_string(), "amount": mist }
    });
    let endpoint = format!("{}/v2/gas", url.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&endpoint)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("the faucet at {url} is unreachable"))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    anyhow::ensure!(
        status.is_success(),
        "the faucet at {url} refused: {status}: {text}"
    );
    println!("{to} received {} SUI from {url}", sui(mist));
    Ok(())
}
