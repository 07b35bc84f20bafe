//! `daas faucet`: SUI for gas and stake, from a faucet's `/v2/gas`.

use anyhow::Context;
use sui_sdk_types::Address;

use crate::stake::sui;

/// Asks the faucet at `url` to fund `to`. Without `amount` it sends Sui's own
/// request (what testnet and devnet faucets take); with it, our dev chain's
/// extension of that request.
pub async fn request(url: &str, to: Address, amount: Option<u64>) -> anyhow::Result<()> {
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
