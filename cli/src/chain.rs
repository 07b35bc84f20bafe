//! The chain side of every `daas` write: build a call of our package with
//! `sui-transaction-builder` (the node resolves objects and picks gas through
//! SimulateTransaction), sign it with `sui-crypto`, execute it over the node's
//! gRPC API, and wait until a checkpoint holds it. Works unchanged against a
//! real Sui full node and against our dev chain.

use std::time::{Duration, Instant};

use daas_domain::{Event, events};
use sui_crypto::{SuiSigner, ed25519::Ed25519PrivateKey};
use sui_rpc::{
    Client,
    client::ExecuteAndWaitError,
    field::{FieldMask, FieldMaskUtil},
    proto::sui::rpc::v2::{
        EventFilter, EventLiteral, EventTerm, EventTypeFilter, ExecuteTransactionRequest,
        GetBalanceRequest, GetServiceInfoRequest, ListEventsRequest, QueryEndReason, QueryOptions,
        event_literal::Predicate,
    },
};
use sui_sdk_types::{Address, Digest, Identifier};
use sui_transaction_builder::{Argument, Function, ObjectInput, TransactionBuilder};

/// How long a transaction may take to reach a checkpoint.
const CHECKPOINT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the node may take to answer at all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a node that cannot be reached is retried (a restart) once a
/// command has talked to it; before that, a shorter wait (a wrong URL).
const RETRY_FOR: Duration = Duration::from_secs(30);
const CONNECT_RETRY_FOR: Duration = Duration::from_secs(10);
/// Pause between those retries.
const RETRY_PAUSE: Duration = Duration::from_millis(250);
/// Events per `ListEvents` page.
const LIST_PAGE: u32 = 1_000;

/// True for a gRPC failure that means "not reachable now" (the node is
/// restarting), as opposed to an answer.
fn unavailable(code: tonic::Code, message: &str) -> bool {
    code == tonic::Code::Unavailable
        || (code == tonic::Code::Unknown && message.contains("transport error"))
}

/// Why a chain operation failed; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The node does not answer.
    #[error(
        "cannot reach the Sui node at {url}: {reason} (is it running? see `node_url` in the configuration)"
    )]
    Unreachable {
        /// The URL tried.
        url: String,
        /// Why.
        reason: String,
    },
    /// The sender has no SUI to pay gas with.
    #[error("{address} has no SUI to pay for gas; fund it first (`daas faucet` on a dev chain)")]
    NoGas {
        /// The sender.
        address: Address,
    },
    /// A Move abort, in simulation (nothing was sent) or on chain.
    #[error("the {module} contract refused: {reason} (abort code {code} in {location})")]
    Refused {
        /// Module.
        module: String,
        /// `module::function` where it aborted.
        location: String,
        /// Abort code.
        code: u64,
        /// What the code means.
        reason: String,
    },
    /// Building or simulating failed otherwise.
    #[error("building the transaction: {0}")]
    Build(String),
    /// The node rejected or failed the transaction.
    #[error("executing the transaction: {0}")]
    Execute(String),
}

/// What a final transaction did.
#[derive(Debug)]
pub struct Executed {
    /// Its digest.
    pub digest: Digest,
    /// The checkpoint holding it.
    pub checkpoint: Option<u64>,
    /// Our package's events, decoded.
    pub events: Vec<Event>,
}

/// One listed event.
#[derive(Clone, Debug)]
pub struct ListedEvent {
    /// Its BCS contents.
    pub contents: Vec<u8>,
    /// The transaction that emitted it (base58; empty if the node did not say).
    pub transaction_digest: String,
}

/// A connection to a node, for our package.
pub struct Chain {
    client: Client,
    url: String,
    package: Address,
}

/// What an abort code of our package means (see `contracts/sources`).
pub fn abort_reason(module: &str, code: u64) -> &'static str {
    match (module, code) {
        ("staking", 1) => "invalid role",
        ("staking", 2) => "amount below the role's minimum stake",
        ("staking", 3) => "already staked in this role (use `daas stake add`)",
        ("staking", 4) => "no stake in this role",
        ("staking", 5) => "the stake is still locked",
        ("staking", 6) => "amount larger than the stake",
        ("staking", 7) => "amount must be more than zero",
        ("staking", 8) => "this AdminCap is not the pool's",
        ("gateway", 101) => {
            "insufficient stake: the sender's tier stake is below what this verb and kind need"
        }
        ("gateway", 102) => "manifest too large",
        ("gateway", 103) => "unknown verb",
        ("gateway", 104) => "empty name",
        ("gateway", 105) => "this AdminCap does not govern the cluster",
        ("gateway", 106) => {
            "invalid name: Kubernetes names are 1-253 of a-z, 0-9, '-' and '.', starting and ending with a letter or digit"
        }
        ("gateway", 107) => {
            "invalid namespace: 1-63 of a-z, 0-9 and '-', starting and ending with a letter or digit"
        }
        ("gateway", 108) => {
            "needs cluster authority (cluster-scoped kind or system namespace): only the cluster's creator, \
             or a cluster admin it granted (`daas admin grant-admin`) holding a 10 SUI admin stake"
        }
        ("gateway", 109) => "invalid kind: 1-63 ASCII letters and digits, starting upper-case",
        ("gateway", 110) => "invalid apiVersion: `version` or `group/version` in lower case",
        ("grants", 201) => "invalid namespace role",
        ("grants", 202) => "no such grant",
        ("grants", 203) => "empty namespace",
        ("grants", 204) => "invalid namespace name (1-63 of a-z, 0-9 and '-')",
        ("enclave", 401) => "each PCR must be 48 bytes",
        ("enclave", 402) => "no PCR set with that version",
        ("enclave", 403) => "the enclave's public key must be 32 bytes (Ed25519)",
        ("enclave", 404) => "empty attestation document (code retired since issue 16)",
        ("enclave", 405) => "the sealing public key must be 32 bytes (X25519)",
        ("enclave", 406) => {
            "the document's PCR0-2 differ from the latest registered PCR set \
             (`daas enclave show`; a new image needs `daas admin register-pcrs`)"
        }
        ("enclave", 407) => "no PCR set is registered yet (`daas admin register-pcrs`)",
        ("enclave", 408) => "the document's user_data is not an 80-byte k3s-daas binding",
        ("enclave", 409) => "the document binds another cluster",
        ("enclave", 410) => {
            "the document's sealing key version is neither the cluster's current one nor the next"
        }
        ("enclave", 411) => {
            "the document is not newer than the cluster's current enclave's (a replayed attestation)"
        }
        ("nitro_attestation", 1) => {
            "the attestation document does not parse (structure or size limits)"
        }
        ("nitro_attestation", 2) => {
            "the attestation document does not verify (root, certificate chain, validity time or signature)"
        }
        ("nodes", 301) => "the sender has no active node stake",
        ("nodes", 302) => "a node with that name is registered already",
        ("nodes", 303) => "no node with that name",
        ("nodes", 304) => "only the node's operator may do that",
        ("nodes", 305) => "the public key must be 32 bytes (Ed25519)",
        ("nodes", 306) => "empty node name",
        _ => "unknown abort code",
    }
}

impl Chain {
    /// Connects to the node at `url` and checks that it answers.
    pub async fn connect(url: &str, package: Address) -> Result<Self, ChainError> {
        let unreachable = |reason: String| ChainError::Unreachable {
            url: url.to_owned(),
            reason,
        };
        let mut client = Client::new(url).map_err(|e| unreachable(e.to_string()))?;
        let deadline = Instant::now() + CONNECT_RETRY_FOR;
        let mut warned = false;
        loop {
            let info = tokio::time::timeout(
                CONNECT_TIMEOUT,
                client
                    .ledger_client()
                    .get_service_info(GetServiceInfoRequest::default()),
            )
            .await;
            match info {
                Ok(Ok(_)) => break,
                Ok(Err(status))
                    if unavailable(status.code(), status.message())
                        && Instant::now() < deadline =>
                {
                    if !warned {
                        eprintln!("the Sui node at {url} does not answer; retrying for 10 s");
                        warned = true;
                    }
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                Ok(Err(status)) => return Err(unreachable(status.message().to_owned())),
                Err(_) => return Err(unreachable("no answer within 10 s".into())),
            }
        }
        Ok(Self {
            client,
            url: url.to_owned(),
            package,
        })
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `address`'s SUI balance, MIST.
    pub async fn balance(&mut self, address: Address) -> Result<u64, ChainError> {
        let mut req = GetBalanceRequest::default();
        req.owner = Some(address.to_string());
        req.coin_type = Some("0x2::sui::SUI".into());
        let resp = self
            .client
            .state_client()
            .get_balance(req)
            .await
            .map_err(|s| {
                if unavailable(s.code(), s.message()) {
                    ChainError::Unreachable {
                        url: self.url.clone(),
                        reason: s.message().to_owned(),
                    }
                } else {
                    ChainError::Execute(s.message().to_owned())
                }
            })?;
        Ok(resp
            .into_inner()
            .balance
            .and_then(|b| b.balance)
            .unwrap_or(0))
    }

    /// Our package's id.
    pub fn package(&self) -> Address {
        self.package
    }

    /// Calls `module::function` of our package as `key`. `args` adds the
    /// call's arguments to the builder (objects by id: the node resolves them).
    /// Retried as [`Chain::call_ptb`] is.
    pub async fn call(
        &mut self,
        key: &Ed25519PrivateKey,
        module: &'static str,
        function: &'static str,
        args: impl Fn(&mut TransactionBuilder) -> Vec<Argument>,
    ) -> Result<Executed, ChainError> {
        let package = self.package;
        self.call_ptb(key, |b| {
            let arguments = args(b);
            b.move_call(
                Function::new(
                    package,
                    Identifier::from_static(module),
                    Identifier::from_static(function),
                ),
                arguments,
            );
        })
        .await
    }

    /// Executes the programmable transaction `build` makes (its commands,
    /// any package's), as `key`.
    ///
    /// A node that cannot be reached (restarting) is retried for 30 s: the
    /// build from scratch, the execution with the same signed transaction, so
    /// it is never executed twice (a resubmission has the same digest, and a
    /// transaction already in a checkpoint is answered from the ledger).
    pub async fn call_ptb(
        &mut self,
        key: &Ed25519PrivateKey,
        build: impl Fn(&mut TransactionBuilder),
    ) -> Result<Executed, ChainError> {
        let deadline = Instant::now() + RETRY_FOR;
        let sender = key.public_key().derive_address();
        let tx = loop {
            let attempt = async {
                if self.balance(sender).await? == 0 {
                    return Err(ChainError::NoGas { address: sender });
                }
                let mut b = TransactionBuilder::new();
                b.set_sender(sender);
                build(&mut b);
                b.build(&mut self.client).await.map_err(build_error)
            };
            match attempt.await {
                Err(ChainError::Unreachable { .. }) if Instant::now() < deadline => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                Err(ChainError::Unreachable { reason, .. }) => {
                    return Err(ChainError::Unreachable {
                        url: self.url.clone(),
                        reason,
                    });
                }
                other => break other?,
            }
        };
        self.execute(key, tx, deadline).await
    }

    /// Signs and executes `tx`, waiting for its checkpoint.
    async fn execute(
        &mut self,
        key: &Ed25519PrivateKey,
        tx: sui_sdk_types::Transaction,
        deadline: Instant,
    ) -> Result<Executed, ChainError> {
        let signature = key
            .sign_transaction(&tx)
            .map_err(|e| ChainError::Build(format!("signing: {e}")))?;

        let mut req = ExecuteTransactionRequest::default();
        req.transaction = Some(tx.into());
        req.signatures = vec![signature.into()];
        req.read_mask = Some(FieldMask::from_paths([
            "digest",
            "effects.status",
            "events",
            "checkpoint",
        ]));
        let resp = loop {
            match self
                .client
                .execute_transaction_and_wait_for_checkpoint(req.clone(), CHECKPOINT_TIMEOUT)
                .await
            {
                Ok(r) => break r.into_inner(),
                // Final, but its checkpoint was not seen: report it without one.
                Err(ExecuteAndWaitError::CheckpointTimeout(r))
                | Err(ExecuteAndWaitError::CheckpointStreamError { response: r, .. }) => {
                    break r.into_inner();
                }
                Err(ExecuteAndWaitError::RpcError(s))
                    if unavailable(s.code(), s.message()) && Instant::now() < deadline =>
                {
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                Err(e) => return Err(ChainError::Execute(e.to_string())),
            }
        };
        executed(resp.transaction)
    }

    /// Every event of type `<package>::module::name` on the chain, oldest
    /// first, as BCS contents.
    pub async fn list_events(
        &mut self,
        module: &str,
        name: &str,
    ) -> Result<Vec<Vec<u8>>, ChainError> {
        Ok(self
            .list_events_with_tx(module, name)
            .await?
            .into_iter()
            .map(|e| e.contents)
            .collect())
    }

    /// Every event of type `<package>::module::name` on the chain, oldest
    /// first, with its transaction (`ListEvents` filtered by event type on
    /// the node, paged; the type is checked again here).
    pub async fn list_events_with_tx(
        &mut self,
        module: &str,
        name: &str,
    ) -> Result<Vec<ListedEvent>, ChainError> {
        let event_type = format!("{}::{module}::{name}", self.package);
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let mut req = ListEventsRequest::default();
            req.filter = Some(event_type_filter(&event_type));
            let mut options = QueryOptions::default();
            options.limit = Some(LIST_PAGE);
            options.after = after.take();
            req.options = Some(options);
            req.read_mask = Some(FieldMask::from_paths([
                "event_type",
                "contents",
                "transaction_digest",
            ]));
            let listing = |s: tonic::Status| {
                if unavailable(s.code(), s.message()) {
                    ChainError::Unreachable {
                        url: self.url.clone(),
                        reason: s.message().to_owned(),
                    }
                } else {
                    ChainError::Execute(format!("listing {event_type} events: {}", s.message()))
                }
            };
            let mut frames = self
                .client
                .ledger_client()
                .list_events(req)
                .await
                .map_err(listing)?
                .into_inner();
            let mut end = None;
            while let Some(frame) = frames.message().await.map_err(listing)? {
                if let Some(e) = frame.event
                    && e.event_type
                        .as_deref()
                        .is_some_and(|t| same_type(t, &event_type))
                {
                    out.push(ListedEvent {
                        contents: e
                            .contents
                            .and_then(|c| c.value)
                            .unwrap_or_default()
                            .to_vec(),
                        transaction_digest: e.transaction_digest.unwrap_or_default(),
                    });
                }
                after = frame.watermark.and_then(|w| w.cursor);
                end = frame.end.and_then(|e| e.reason);
            }
            if end != Some(QueryEndReason::ItemLimit as i32) || after.is_none() {
                return Ok(out);
            }
        }
    }
}

/// What a final transaction did, or the error its effects carry.
fn executed(
    transaction: Option<sui_rpc::proto::sui::rpc::v2::ExecutedTransaction>,
) -> Result<Executed, ChainError> {
    let executed = transaction
        .ok_or_else(|| ChainError::Execute("the node returned no transaction".into()))?;
    let status = executed.effects.as_ref().and_then(|e| e.status.as_ref());
    if !status.and_then(|s| s.success).unwrap_or(false) {
        let error = status.and_then(|s| s.error.as_ref());
        if let Some(abort) = error.and_then(|e| e.abort_opt()) {
            return Err(refused(abort));
        }
        return Err(ChainError::Execute(format!(
            "failed on chain: {}",
            error
                .and_then(|e| e.description.clone())
                .unwrap_or_else(|| "no description".into())
        )));
    }
    let digest: Digest = executed
        .digest
        .as_deref()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| ChainError::Execute("the node returned no digest".into()))?;
    let decoded = executed
        .events
        .map(|e| e.events)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| decode_event(e).ok().flatten())
        .collect();
    Ok(Executed {
        digest,
        checkpoint: executed.checkpoint,
        events: decoded,
    })
}

/// Decodes one of our package's events from the node's form: `Ok(None)` for
/// another package's or an unknown type.
pub fn decode_event(
    e: &sui_rpc::proto::sui::rpc::v2::Event,
) -> Result<Option<Event>, events::DecodeError> {
    let (Some(t), Some(contents)) = (e.event_type.as_deref(), e.contents.as_ref()) else {
        return Ok(None);
    };
    let mut parts = t.rsplitn(3, "::");
    let (Some(name), Some(module)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let bytes = contents.value.as_deref().unwrap_or_default();
    match events::decode(module, name, bytes)? {
        events::Decoded::Known(ev) => Ok(Some(ev)),
        _ => Ok(None),
    }
}

/// Whether two Move type strings name the same type (addresses compared as
/// addresses: a node may print them short or long).
fn same_type(a: &str, b: &str) -> bool {
    let split = |s: &str| {
        let (address, rest) = s.split_once("::")?;
        Some((address.parse::<Address>().ok()?, rest.to_owned()))
    };
    matches!((split(a), split(b)), (Some(x), Some(y)) if x == y)
}

/// A `ListEvents` filter for one event type.
fn event_type_filter(event_type: &str) -> EventFilter {
    let mut t = EventTypeFilter::default();
    t.event_type = Some(event_type.to_owned());
    let mut literal = EventLiteral::default();
    literal.predicate = Some(Predicate::EventType(t));
    let mut term = EventTerm::default();
    term.literals = vec![literal];
    let mut filter = EventFilter::default();
    filter.terms = vec![term];
    filter
}

/// A shared object by id (the node fills in its version).
pub fn shared(b: &mut TransactionBuilder, id: Address) -> Argument {
    b.object(ObjectInput::new(id))
}

/// The clock.
pub fn clock(b: &mut TransactionBuilder) -> Argument {
    b.object(ObjectInput::new(Address::from_static("0x6")))
}

fn refused(abort: &sui_rpc::proto::sui::rpc::v2::MoveAbort) -> ChainError {
    let module = abort
        .location
        .as_ref()
        .and_then(|l| l.module.clone())
        .unwrap_or_default();
    let code = abort.abort_code.unwrap_or(0);
    let function = abort
        .location
        .as_ref()
        .and_then(|l| l.function_name.as_deref());
    ChainError::Refused {
        location: match function {
            Some(f) => format!("{module}::{f}"),
            None => module.clone(),
        },
        reason: abort_reason(&module, code).to_owned(),
        module,
        code,
    }
}

fn build_error(e: sui_transaction_builder::Error) -> ChainError {
    if let sui_transaction_builder::Error::SimulationFailure(f) = &e
        && let Some(abort) = f.move_abort()
    {
        return refused(abort);
    }
    let text = e.to_string();
    // The builder reports a failed SimulateTransaction call as text only.
    if text.contains("Unavailable") || text.contains("transport error") {
        return ChainError::Unreachable {
            url: String::new(),
            reason: text,
        };
    }
    ChainError::Build(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_abort_code_of_the_package_has_a_reason() {
        // The codes declared in contracts/sources/*.move.
        let sources = [
            (
                "staking",
                include_str!("../../contracts/sources/staking.move"),
            ),
            (
                "gateway",
                include_str!("../../contracts/sources/gateway.move"),
            ),
            (
                "grants",
                include_str!("../../contracts/sources/grants.move"),
            ),
            ("nodes", include_str!("../../contracts/sources/nodes.move")),
            (
                "enclave",
                include_str!("../../contracts/sources/enclave.move"),
            ),
        ];
        let mut checked = 0;
        for (module, text) in sources {
            // Error constants are `E` + CamelCase (ED25519_… is a size).
            let is_error = |l: &&str| {
                l.strip_prefix("const E")
                    .and_then(|rest| rest.chars().nth(1))
                    .is_some_and(char::is_lowercase)
            };
            for line in text.lines().filter(is_error) {
                let code: u64 = line
                    .rsplit('=')
                    .next()
                    .and_then(|v| v.trim().trim_end_matches(';').trim().parse().ok())
                    .unwrap_or_else(|| panic!("cannot read {line}"));
                assert_ne!(
                    abort_reason(module, code),
                    "unknown abort code",
                    "{module}: {line}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 32, "found only {checked} codes");
    }
}
