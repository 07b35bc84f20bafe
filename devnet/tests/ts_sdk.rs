//! The official TypeScript SDK (`@mysten/sui` 1.45, `SuiGrpcClient`) against
//! the dev chain, over grpc-web and native gRPC: service info, objects,
//! balances, owned objects, a checkpoint, and a SUI transfer the SDK builds,
//! signs and executes (script: `tests/ts/sdk.mjs`). The expected values come
//! from the node's own state; after the script, the transfers are checked on
//! the chain. Needs `node` and `npm` (installs `tests/ts` with `npm ci` when
//! its `node_modules` is missing, as `scripts/test` does up front).

use std::{path::Path, process::Command, time::Duration};

use daas_devnet::{
    executor::REFERENCE_GAS_PRICE,
    node::{Node, NodeConfig},
    rpc::{self, execution::DEFAULT_GAS_BUDGET},
};
use serde_json::{Value, json};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::Address;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const AMOUNT: u64 = 100_000_000;

/// Installs the script's pinned packages when they are missing.
fn npm_ci(dir: &Path) -> anyhow::Result<()> {
    if dir.join("node_modules/@mysten/sui/package.json").exists() {
        return Ok(());
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "npm ci in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// What the script must find, read from the node's own state.
fn expectations(node: &Node, url: &str, sender: Address) -> Value {
    node.read(|c| {
        let pkg = c.world.ids.package;
        let clock = c.world.clock_ms;
        let obj = |id: &Address| c.world.objects.get(id).expect("object");
        let pool = obj(&c.world.ids.pool);
        let mut coins: Vec<_> = c.world.objects.owned_by(&sender).collect();
        coins.sort_by_key(|o| o.balance());
        // The smaller coin: gas is paid with the larger one, so this one stays put.
        let coin = coins.first().expect("the sender has coins");
        let admin = node.admin_key().public_key().derive_address();
        let cp = &c.checkpoints[0];
        json!({
            "url": url,
            "chain_id": c.chain_id().to_string(),
            "sender": sender.to_string(),
            "sender_balance": c.world.objects.balance_of(&sender).to_string(),
            "admin": admin.to_string(),
            "admin_balance": c.world.objects.balance_of(&admin).to_string(),
            "pool": {
                "id": pool.id.to_string(),
                "version": pool.version.to_string(),
                "digest": pool.digest(pkg, clock).to_string(),
                "type": pool.type_tag(pkg).to_string(),
                "initial_shared_version": pool.initial_shared_version().expect("shared").to_string(),
            },
            "coin": {
                "id": coin.id.to_string(),
                "version": coin.version.to_string(),
                "digest": coin.digest(pkg, clock).to_string(),
                "balance": coin.balance().expect("a coin").to_string(),
            },
            "missing": Address::from_static("0x1234").to_string(),
            "checkpoint": {
                "sequence_number": cp.summary.sequence_number.to_string(),
                "digest": cp.digest.to_string(),
                "epoch": cp.summary.epoch.to_string(),
                "content_digest": cp.summary.content_digest.to_string(),
            },
            "reference_gas_price": REFERENCE_GAS_PRICE.to_string(),
            "gas_budget": DEFAULT_GAS_BUDGET.to_string(),
            "amount": AMOUNT.to_string(),
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_reads_and_transacts_over_grpc_web_and_grpc() -> anyhow::Result<()> {
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ts");
    npm_ci(&script_dir)?;

    let dir = tempfile::tempdir()?;
    let node = Node::open(NodeConfig {
        validators: 4,
        data_dir: dir.path().to_path_buf(),
        checkpoint_interval: Duration::from_millis(100),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
        nitro_root: daas_devnet::node::TrustedRoot::aws_nitro(),
    })?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(rpc::serve(listener, node.clone(), shutdown.clone()));
    let (n, s) = (node.clone(), shutdown.clone());
    let sealer = tokio::spawn(async move { n.run_checkpoints(s).await });

    // A browser page on another origin may call it (CORS preflight).
    let preflight = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{url}/sui.rpc.v2.LedgerService/GetServiceInfo"),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-grpc-web")
        .send()
        .await?;
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let allow = |h: &str| {
        preflight
            .headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(allow("access-control-allow-origin").as_deref(), Some("*"));
    // `*`: any request header (a page without credentials may send any).
    assert!(
        allow("access-control-allow-headers").is_some_and(|h| h == "*" || h.contains("x-grpc-web"))
    );

    let key = Ed25519PrivateKey::generate(rand_core::OsRng);
    let sender = key.public_key().derive_address();
    node.faucet(sender, 5_000_000_000)?;
    node.faucet(sender, 1_000_000_000)?;
    let expect = expectations(&node, &url, sender);
    let before = node.read(|c| c.world.objects.balance_of(&sender));

    let out = tokio::process::Command::new("node")
        .arg("sdk.mjs")
        .current_dir(&script_dir)
        .env("DAAS_SDK_EXPECT", expect.to_string())
        .env("DAAS_SDK_KEY", key.to_suiprivkey()?)
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    anyhow::ensure!(
        out.status.success(),
        "the SDK script failed: {}",
        out.status
    );

    // The chain agrees with what the SDK was told.
    let results: Vec<Value> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let transports: Vec<&str> = results
        .iter()
        .filter_map(|r| r["transport"].as_str())
        .collect();
    assert_eq!(transports, ["grpc-web", "grpc"]);
    let mut spent = 0u128;
    for r in &results {
        let recipient: Address = r["recipient"].as_str().unwrap_or_default().parse()?;
        let digest: sui_sdk_types::Digest = r["digest"].as_str().unwrap_or_default().parse()?;
        let (received, fx) = node.read(|c| {
            let fx = c.transaction(&digest).map(|(t, _)| t.effects.clone());
            (c.world.objects.balance_of(&recipient), fx)
        });
        assert_eq!(received, u128::from(AMOUNT), "recipient of {digest}");
        let fx = fx.expect("the chain has the transaction");
        assert_eq!(fx.status(), &sui_sdk_types::ExecutionStatus::Success);
        let g = fx.gas_summary();
        let net = g.computation_cost + g.storage_cost - g.storage_rebate;
        assert_eq!(r["net_gas"].as_str(), Some(net.to_string().as_str()));
        spent += u128::from(AMOUNT + net);
    }
    let after = node.read(|c| c.world.objects.balance_of(&sender));
    assert_eq!(after, before - spent, "sender balance on the chain");

    shutdown.cancel();
    let _ = server.await;
    let _ = sealer.await;
    Ok(())
}
