//! `sui-transaction-builder`'s `build` (input resolution and gas selection
//! through SimulateTransaction, owned objects, balances) works against the dev
//! chain, and the built transaction executes.

use std::time::Duration;

use daas_devnet::{
    chain::PACKAGE_ID,
    node::{Node, NodeConfig},
    rpc,
};
use sui_crypto::{SuiSigner, ed25519::Ed25519PrivateKey};
use sui_rpc::{
    Client,
    proto::sui::rpc::v2::{ExecuteTransactionRequest, GetBalanceRequest},
};
use sui_sdk_types::{Address, Identifier};
use sui_transaction_builder::{Function, ObjectInput, TransactionBuilder};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_built_stake_executes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = Node::open(NodeConfig {
        data_dir: dir.path().to_path_buf(),
        checkpoint_interval: Duration::from_millis(50),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
        validators: daas_devnet::committee::DEFAULT_VALIDATORS,
        nitro_root: daas_devnet::node::TrustedRoot::aws_nitro(),
    })?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(rpc::serve(listener, node.clone(), shutdown.clone()));

    let key = Ed25519PrivateKey::generate(rand_core::OsRng);
    let me = key.public_key().derive_address();
    // Two coins, so gas selection has a choice.
    node.faucet(me, 1_000_000_000)?;
    node.faucet(me, 2_000_000_000)?;
    let pool = node.read(|c| c.world.ids.pool);

    let mut client = Client::new(format!("http://{addr}"))?;
    let mut req = GetBalanceRequest::default();
    req.owner = Some(me.to_string());
    let balance = client.state_client().get_balance(req).await?.into_inner();
    assert_eq!(balance.balance.and_then(|b| b.balance), Some(3_000_000_000));

    let mut b = TransactionBuilder::new();
    b.set_sender(me);
    let gas = b.gas();
    let amount = b.pure(&600_000_000u64);
    let coins = b.split_coins(gas, vec![amount]);
    let pool = b.object(ObjectInput::new(pool));
    let role = b.pure(&0u8);
    let clock = b.object(ObjectInput::new(Address::from_static("0x6")));
    b.move_call(
        Function::new(
            PACKAGE_ID,
            Identifier::from_static("staking"),
            Identifier::from_static("stake"),
        ),
        vec![pool, coins[0], role, clock],
    );
    let tx = b.build(&mut client).await?;
    let sig = key.sign_transaction(&tx)?;

    let mut exec = ExecuteTransactionRequest::default();
    exec.transaction = Some(tx.into());
    exec.signatures = vec![sig.into()];
    let done = client
        .execution_client()
        .execute_transaction(exec)
        .await?
        .into_inner();
    let effects = done
        .transaction
        .as_ref()
        .and_then(|t| t.effects.as_ref())
        .and_then(|e| e.bcs.as_ref())
        .expect("effects");
    let effects: sui_sdk_types::TransactionEffects = effects.deserialize()?;
    assert_eq!(effects.status(), &sui_sdk_types::ExecutionStatus::Success);
    let events = done
        .transaction
        .and_then(|t| t.events)
        .map(|e| e.events.len())
        .unwrap_or(0);
    assert_eq!(events, 1, "one StakeDeposited");
    assert_eq!(
        node.read(|c| c
            .world
            .contract
            .stake_of(daas_domain::Address(me.into_inner()), 0)),
        600_000_000
    );

    shutdown.cancel();
    let _ = server.await;
    Ok(())
}
