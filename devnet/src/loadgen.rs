//! The load generator: many accounts, each submitting signed transactions
//! back to back over gRPC (each waits for its previous one, because it pays
//! with the gas coin the previous one mutated), all accounts at once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_rpc::{
    Client,
    proto::sui::rpc::v2::{ExecuteTransactionRequest, GetObjectRequest},
};
use sui_sdk_types::{Address, ObjectReference, Transaction, UserSignature};
use tokio::task::JoinSet;

use crate::{calls, chain::genesis_ids, faucet::FaucetRequest};

/// What to generate.
#[derive(clap::Args, Debug, Clone)]
pub struct LoadArgs {
    /// The node's gRPC URL.
    #[arg(long, env = "DAAS_NODE_URL", default_value = "http://127.0.0.1:9000")]
    pub node_url: String,
    /// The faucet's URL (funds the accounts).
    #[arg(long, env = "DAAS_FAUCET_URL", default_value = "http://127.0.0.1:9123")]
    pub faucet_url: String,
    /// Accounts submitting at once.
    #[arg(long, default_value_t = 200)]
    pub accounts: usize,
    /// Transactions in all (each emits one event: a stake, then top-ups).
    #[arg(long, default_value_t = 20_000)]
    pub transactions: usize,
}

/// What happened.
#[derive(Debug, Clone)]
pub struct Report {
    /// Transactions executed successfully.
    pub executed: u64,
    /// Time from the first to the last submission's answer.
    pub elapsed: Duration,
}

impl Report {
    /// Executed transactions per second.
    pub fn per_second(&self) -> f64 {
        self.executed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "executed {} transactions in {:.2}s: {:.0} tx/s",
            self.executed,
            self.elapsed.as_secs_f64(),
            self.per_second()
        )
    }
}

async fn execute(
    client: &mut Client,
    tx: Transaction,
    sig: UserSignature,
) -> anyhow::Result<ObjectReference> {
    use sui_rpc::{field::FieldMaskTree, merge::Merge, proto::sui::rpc::v2 as pb};
    // The BCS forms are all the node needs; rendering every field as text costs more.
    let bcs_only = FieldMaskTree::from_field_mask(
        &<prost_types::FieldMask as sui_rpc::field::FieldMaskUtil>::from_paths(["bcs"]),
    );
    let mut req = ExecuteTransactionRequest::default();
    req.transaction = Some(pb::Transaction::merge_from(tx, &bcs_only));
    req.signatures = vec![pb::UserSignature::merge_from(sig, &bcs_only)];
    // Only what the next transaction needs: the effects' BCS (for the new gas coin).
    req.read_mask = Some(
        <prost_types::FieldMask as sui_rpc::field::FieldMaskUtil>::from_paths(["effects.bcs"]),
    );
    let resp = client
        .execution_client()
        .execute_transaction(req)
        .await?
        .into_inner();
    let effects = resp
        .transaction
        .and_then(|t| t.effects)
        .and_then(|e| e.bcs)
        .context("response without effects")?;
    let effects: sui_sdk_types::TransactionEffects =
        effects.deserialize().context("effects BCS")?;
    if effects.status() != &sui_sdk_types::ExecutionStatus::Success {
        bail!("transaction failed: {:?}", effects.status());
    }
    calls::gas_after(&effects).context("effects without a gas object")
}

async fn fund(
    client: &mut Client,
    faucet_url: &str,
    who: Address,
    amount: u64,
) -> anyhow::Result<ObjectReference> {
    let body = FaucetRequest::FixedAmountRequest {
        recipient: who.to_string(),
        amount: Some(amount),
    };
    let resp: crate::faucet::FaucetResponse = reqwest::Client::new()
        .post(format!("{}/v2/gas", faucet_url.trim_end_matches('/')))
        .json(&body)
        .send()
        .await
        .context("faucet request")?
        .json()
        .await
        .context("faucet answer")?;
    let coin = resp
        .coins_sent
        .and_then(|c| c.into_iter().next())
        .with_context(|| format!("faucet refused: {}", resp.status))?;
    let mut req = GetObjectRequest::default();
    req.object_id = Some(coin.id);
    let obj = client.ledger_client().get_object(req).await?.into_inner();
    let obj = obj
        .object
        .and_then(|o| o.bcs)
        .context("object without BCS")?;
    let obj: sui_sdk_types::Object = obj.deserialize().context("object BCS")?;
    Ok(ObjectReference::new(
        obj.object_id(),
        obj.version(),
        obj.digest(),
    ))
}

/// Funds `args.accounts` accounts, then has them submit `args.transactions` in all.
pub async fn run(args: &LoadArgs) -> anyhow::Result<Report> {
    let client = Client::new(args.node_url.clone()).context("node URL")?;
    let ids = genesis_ids();
    let per_account = args.transactions.div_ceil(args.accounts.max(1));
    // Stake 0.5 SUI, then 1-MIST top-ups; 0.001 SUI of gas each.
    let funding = 500_000_000 + (per_account as u64 + 2) * 2_000_000;
    let mut funded = Vec::new();
    let mut set = JoinSet::new();
    for _ in 0..args.accounts {
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        let (mut client, url) = (client.clone(), args.faucet_url.clone());
        set.spawn(async move {
            let who = key.public_key().derive_address();
            let gas = fund(&mut client, &url, who, funding).await?;
            anyhow::Ok((key, gas))
        });
        if set.len() >= 16
            && let Some(r) = set.join_next().await
        {
            funded.push(r??);
        }
    }
    while let Some(r) = set.join_next().await {
        funded.push(r??);
    }

    let remaining = Arc::new(AtomicU64::new(args.transactions as u64));
    let executed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut set = JoinSet::new();
    for (key, mut gas) in funded {
        let (mut client, ids) = (client.clone(), ids.clone());
        let (remaining, executed) = (remaining.clone(), executed.clone());
        set.spawn(async move {
            let mut first = true;
            while remaining
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let (tx, sig) = if first {
                    calls::stake(&key, &ids, gas.clone(), 500_000_000, 0)
                } else {
                    calls::top_up(&key, &ids, gas.clone(), 1, 0)
                };
                gas = execute(&mut client, tx, sig).await?;
                first = false;
                executed.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(Report {
        executed: executed.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
    })
}
