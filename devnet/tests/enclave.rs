//! Attested enclave registration on the dev chain, through signed
//! transactions: `0x2::nitro_attestation::load_nitro_attestation` verifies the
//! document against the root the chain was started with (a dev CA here, AWS's
//! for the real vector), then `enclave::register_enclave` checks it. Failures
//! abort where Sui reports them, with the codes of the native (1 parse,
//! 2 verify) and of the Move module (406...). The root is pinned for the
//! chain's life.

mod support;

use daas_attestation::{
    UserData,
    dev::{DevCa, DevRequest},
};
use daas_devnet::{
    calls::{self, Arg},
    node::{Node, NodeConfig, NodeError, TrustedRoot},
};
use daas_domain::{Decoded, Event, events};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::{
    Address, Argument, Command, ExecutionError, ExecutionStatus, Identifier, Input, MoveCall,
    ProgrammableTransaction, SharedInput,
};
use support::{Chain, dev_chain};

const PCR: [u8; 48] = [7; 48];

/// A funded key that holds nothing else (registration needs no capability).
fn operator(c: &Chain) -> Ed25519PrivateKey {
    let key = Ed25519PrivateKey::generate(rand_core::OsRng);
    let who = key.public_key().derive_address();
    c.node.faucet(who, 5_000_000_000).expect("faucet");
    key
}

fn gas(c: &Chain, key: &Ed25519PrivateKey) -> sui_sdk_types::ObjectReference {
    let who = key.public_key().derive_address();
    c.node
        .read(|ch| ch.largest_coin(&who))
        .expect("a funded account has a coin")
}

/// The admin registers PCR set 1: `PCR` three times.
fn register_pcrs(c: &Chain) {
    let admin = c.node.admin_key();
    let cap = c.node.read(|ch| {
        let o = ch.world.objects.get(&ch.world.ids.admin_cap).expect("cap");
        o.reference(ch.world.ids.package, ch.world.clock_ms)
    });
    let pcr = || Arg::pure(&PCR.to_vec());
    let args = vec![
        Arg::Owned(cap),
        Arg::Shared(c.ids.enclave_registry),
        pcr(),
        pcr(),
        pcr(),
        Arg::Clock,
    ];
    let (tx, sig) = calls::move_call(
        admin,
        &c.ids,
        gas(c, admin),
        "enclave",
        "register_pcrs",
        args,
    );
    let done = c.node.execute(tx, vec![sig]).expect("included");
    assert_eq!(done.effects.status(), &ExecutionStatus::Success);
}

/// A dev document of the genesis cluster's enclave `key`×32 naming sealing
/// key 1 (`5`×32), at the chain's clock, with PCR0-2 = `pcr`.
fn document(c: &Chain, ca: &DevCa, key: u8, pcr: [u8; 48]) -> Vec<u8> {
    let user_data = UserData {
        cluster_id: c.cluster.0.into_inner(),
        sealing_key_version: 1,
        sealing_public_key: [5; 32],
    };
    ca.attest(&DevRequest {
        timestamp_ms: c.node.read(|ch| ch.world.clock_ms),
        public_key: Some(vec![key; 32]),
        user_data: Some(user_data.encode().to_vec()),
        nonce: None,
        pcrs: (0..3).map(|i| (i, pcr)).collect(),
    })
}

/// Sends the two-call registration of `document` from `key`.
fn register(
    c: &Chain,
    key: &Ed25519PrivateKey,
    document: &[u8],
) -> daas_devnet::executor::Executed {
    let (tx, sig) = calls::register_enclave(key, &c.ids, gas(c, key), c.cluster, document);
    c.node.execute(tx, vec![sig]).expect("included")
}

fn decoded(e: &sui_sdk_types::Event) -> Event {
    let name = e.type_.name().as_str();
    match events::decode(e.module.as_str(), name, &e.contents) {
        Ok(Decoded::Known(event)) => event,
        other => panic!("{name}: {other:?}"),
    }
}

/// `(package, module, function name, code, command)` of a Move abort.
fn abort_of(done: &daas_devnet::executor::Executed) -> (Address, String, String, u64, Option<u64>) {
    match done.effects.status() {
        ExecutionStatus::Failure {
            error: ExecutionError::MoveAbort { location, code },
            command,
        } => (
            location.package,
            location.module.as_str().to_owned(),
            location
                .function_name
                .as_ref()
                .map(|f| f.as_str().to_owned())
                .unwrap_or_default(),
            *code,
            *command,
        ),
        other => panic!("not a Move abort: {other:?}"),
    }
}

/// A chain pinned to a new dev CA, with PCR set 1, the CA, and an operator.
fn setup() -> (Chain, DevCa, Ed25519PrivateKey) {
    let (c, ca) = dev_chain();
    register_pcrs(&c);
    let op = operator(&c);
    (c, ca, op)
}

#[test]
fn anyone_registers_an_enclave_whose_document_the_chain_verified() {
    let (c, ca, op) = setup();
    let doc = document(&c, &ca, 9, PCR);
    let done = register(&c, &op, &doc);
    assert_eq!(done.effects.status(), &ExecutionStatus::Success);
    let got: Vec<Event> = done.events.iter().map(decoded).collect();
    let [
        Event::SealingKeyRegistered(sealing),
        Event::EnclaveRegistered(e),
    ] = got.as_slice()
    else {
        panic!("{got:?}");
    };
    let sender = daas_domain::Address(op.public_key().derive_address().into_inner());
    assert_eq!(
        (sealing.version, sealing.seq, sealing.registered_by),
        (1, 1, sender)
    );
    assert_eq!(e.cluster_id.0, c.cluster.0.into_inner());
    assert_eq!((e.pcr_version, e.sealing_key_version, e.seq), (1, 1, 2));
    assert_eq!(
        (e.public_key.as_ref(), e.sealing_public_key.as_ref()),
        (&[9; 32][..], &[5; 32][..])
    );
    assert_eq!(
        e.module_id.as_ref(),
        daas_attestation::DEV_MODULE_ID.as_bytes()
    );
    assert!(e.is_dev());
    assert_eq!(e.registered_by, sender);
    let verified = daas_attestation::verify(&doc, &ca.root(), e.timestamp_ms).expect("verifies");
    assert_eq!(e.attestation_timestamp_ms, verified.timestamp_ms);
}

#[test]
fn a_document_that_does_not_verify_aborts_in_the_native_with_its_code() {
    let (c, ca, op) = setup();
    let native = |done: &daas_devnet::executor::Executed| {
        let (package, module, function, code, command) = abort_of(done);
        assert_eq!(package, Address::from_static("0x2"));
        assert_eq!(
            (module.as_str(), function.as_str()),
            ("nitro_attestation", "load_nitro_attestation_internal")
        );
        assert_eq!(command, Some(0), "the first command");
        assert!(done.events.is_empty());
        code
    };
    let other_ca = DevCa::generate(support::now_ms());
    assert_eq!(
        native(&register(&c, &op, &document(&c, &other_ca, 9, PCR))),
        2,
        "another root"
    );
    let mut flipped = document(&c, &ca, 9, PCR);
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert_eq!(
        native(&register(&c, &op, &flipped)),
        2,
        "a flipped signature byte"
    );
    assert_eq!(native(&register(&c, &op, b"not a document")), 1, "garbage");
    assert_eq!(native(&register(&c, &op, &[])), 1, "empty");
    assert_eq!(
        c.node.read(|ch| ch.world.contract.enclave_event_seq),
        1,
        "nothing registered"
    );
}

#[test]
fn a_document_of_other_pcrs_aborts_with_406_in_the_enclave_module() {
    let (c, ca, op) = setup();
    let mut pcr = PCR;
    pcr[0] = 8;
    let done = register(&c, &op, &document(&c, &ca, 9, pcr));
    let (package, module, function, code, command) = abort_of(&done);
    assert_eq!(package, daas_devnet::chain::PACKAGE_ID);
    assert_eq!(
        (module.as_str(), function.as_str(), code),
        ("enclave", "register_attested", 406)
    );
    assert_eq!(command, Some(1), "the second command");
}

#[test]
fn a_real_aws_document_is_checked_at_the_chains_time_on_an_aws_chain() {
    // The vector's leaf expired in January 2025; the chain's clock is now.
    let c = support::chain();
    let op = operator(&c);
    let doc = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../attestation/tests/vectors/nitro_attest.cose"
    ))
    .expect("vector");
    let (package, _, function, code, _) = abort_of(&register(&c, &op, &doc));
    assert_eq!(
        (package, function.as_str(), code),
        (
            Address::from_static("0x2"),
            "load_nitro_attestation_internal",
            2
        )
    );
}

fn load_call(bytes: u16, clock: u16) -> Command {
    Command::MoveCall(MoveCall {
        package: Address::from_static("0x2"),
        module: Identifier::from_static("nitro_attestation"),
        function: Identifier::from_static("load_nitro_attestation"),
        type_arguments: vec![],
        arguments: vec![Argument::Input(bytes), Argument::Input(clock)],
    })
}

fn our_call(c: &Chain, function: &'static str, arguments: Vec<Argument>) -> Command {
    Command::MoveCall(MoveCall {
        package: c.ids.package,
        module: Identifier::from_static("enclave"),
        function: Identifier::from_static(function),
        type_arguments: vec![],
        arguments,
    })
}

/// Runs `commands` over inputs (document bytes, clock, registry, cluster).
fn run(
    c: &Chain,
    key: &Ed25519PrivateKey,
    document: &[u8],
    commands: Vec<Command>,
) -> ExecutionStatus {
    let inputs = vec![
        Input::Pure(bcs::to_bytes(document).expect("bcs")),
        Input::Shared(SharedInput::new(Address::from_static("0x6"), 1, false)),
        Input::Shared(SharedInput::new(c.ids.enclave_registry, 1, true)),
        Input::Shared(SharedInput::new(c.cluster.0, c.cluster.1, false)),
    ];
    let (tx, sig) = calls::sign(
        key,
        ProgrammableTransaction { inputs, commands },
        vec![gas(c, key)],
    );
    c.node
        .execute(tx, vec![sig])
        .expect("included")
        .effects
        .status()
        .clone()
}

#[test]
fn only_the_two_call_shape_runs() {
    let (c, ca, op) = setup();
    let doc = document(&c, &ca, 9, PCR);
    let register = |doc_arg| {
        our_call(
            &c,
            "register_enclave",
            vec![
                Argument::Input(2),
                Argument::Input(3),
                doc_arg,
                Argument::Input(1),
            ],
        )
    };
    let unsupported = |status: ExecutionStatus| {
        matches!(
            status,
            ExecutionStatus::Failure {
                error: ExecutionError::FeatureNotYetSupported,
                ..
            }
        )
    };
    // Three Move calls; the load after ours; a load alone.
    let three = vec![
        load_call(0, 1),
        load_call(0, 1),
        register(Argument::Result(0)),
    ];
    assert!(unsupported(run(&c, &op, &doc, three)));
    let after = vec![register(Argument::Result(1)), load_call(0, 1)];
    assert!(unsupported(run(&c, &op, &doc, after)));
    assert!(unsupported(run(&c, &op, &doc, vec![load_call(0, 1)])));
    // The document is not a pure value; the load's clock must be the clock.
    let status = run(&c, &op, &doc, vec![register(Argument::Input(0))]);
    assert_eq!(bad_argument(&status), Some((2, Some(0))), "{status:?}");
    let load_then = vec![load_call(0, 2), register(Argument::Result(0))];
    let status = run(&c, &op, &doc, load_then);
    assert_eq!(bad_argument(&status), Some((1, Some(0))), "{status:?}");
    assert_eq!(
        c.node.read(|ch| ch.world.contract.enclave_event_seq),
        1,
        "nothing registered"
    );
    let ok = run(
        &c,
        &op,
        &doc,
        vec![load_call(0, 1), register(Argument::Result(0))],
    );
    assert_eq!(ok, ExecutionStatus::Success);
}

/// (argument, command) of a `CommandArgumentError`.
fn bad_argument(status: &ExecutionStatus) -> Option<(u16, Option<u64>)> {
    match status {
        ExecutionStatus::Failure {
            error: ExecutionError::CommandArgumentError { argument, .. },
            command,
        } => Some((*argument, *command)),
        _ => None,
    }
}

fn config(dir: &std::path::Path, nitro_root: TrustedRoot) -> NodeConfig {
    NodeConfig {
        data_dir: dir.to_path_buf(),
        checkpoint_interval: std::time::Duration::from_secs(3600),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
        validators: daas_devnet::committee::DEFAULT_VALIDATORS,
        nitro_root,
    }
}

#[test]
fn the_root_is_pinned_for_the_chains_life_and_registrations_replay() {
    let (c, ca, op) = setup();
    assert_eq!(
        register(&c, &op, &document(&c, &ca, 9, PCR))
            .effects
            .status(),
        &ExecutionStatus::Success
    );
    let dir = c.into_dir();

    let other = DevCa::generate(support::now_ms());
    match Node::open(config(dir.path(), other.root())) {
        Err(NodeError::NitroRoot { pinned, given, .. }) => {
            assert_eq!(pinned, hex::encode(ca.root().fingerprint()));
            assert_eq!(given, hex::encode(other.root().fingerprint()));
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("another root must be refused"),
    }
    let again = Node::open(config(dir.path(), ca.root())).expect("the same root reopens");
    let info = again.read(|ch| ch.world.contract.enclave_info(&[9; 32]).cloned());
    assert_eq!(
        info.map(|i| i.sealing_key_version),
        Some(1),
        "the registration replayed"
    );
}
