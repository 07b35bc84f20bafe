//! `TransactionExecutionService` (execute, simulate with input resolution and
//! gas selection) and the `StateService` calls a transaction builder needs
//! (owned objects, balances).

use prost_types::FieldMask;
use sui_rpc::field::{FieldMaskTree, FieldMaskUtil};
use sui_rpc::proto::sui::rpc::v2::{
    self as pb, Bcs, ExecuteTransactionRequest, ExecuteTransactionResponse, GetBalanceRequest,
    GetBalanceResponse, ListBalancesRequest, ListBalancesResponse, ListOwnedObjectsRequest,
    ListOwnedObjectsResponse, SimulateTransactionRequest, SimulateTransactionResponse,
    input::InputKind, state_service_server::StateService,
    transaction_execution_service_server::TransactionExecutionService,
};
use sui_sdk_types::{
    Address, GasPayment, Input, ObjectReference, ProgrammableTransaction, SharedInput, Transaction,
    TransactionExpiration, TransactionKind, UserSignature,
};
use tonic::{Request, Response, Status};

use super::{Rpc, address, balances, ledger::executed_to_proto_masked, objects};
use crate::{
    executor::{Executed, GAS_UNITS_PER_TRANSACTION, REFERENCE_GAS_PRICE, Rejected},
    node::NodeError,
    objects::Kind,
};

/// The gas budget chosen when a simulation is asked to select gas and none is set.
pub const DEFAULT_GAS_BUDGET: u64 = 10 * GAS_UNITS_PER_TRANSACTION * REFERENCE_GAS_PRICE;

fn status(e: NodeError) -> Status {
    match e {
        NodeError::Rejected(
            r @ (Rejected::UnknownObject(_)
            | Rejected::StaleObject { .. }
            | Rejected::NotOwned { .. }),
        ) => Status::failed_precondition(r.to_string()),
        NodeError::Rejected(r) => Status::invalid_argument(r.to_string()),
        other => Status::internal(other.to_string()),
    }
}

impl Rpc {
    /// Turns a possibly partial protobuf transaction into a complete one:
    /// object inputs get their current reference (or initial shared version),
    /// and, when asked, gas coins, budget and price are chosen.
    fn resolve(&self, tx: &pb::Transaction, select_gas: bool) -> Result<Transaction, Status> {
        if let Some(bcs) = &tx.bcs {
            return bcs
                .deserialize()
                .map_err(|e| Status::invalid_argument(format!("transaction BCS: {e}")));
        }
        let sender = address(tx.sender.as_deref(), "transaction.sender")?;
        let kind = tx
            .kind
            .as_ref()
            .ok_or_else(|| Status::invalid_argument("transaction.kind is required"))?;
        let Some(pb::transaction_kind::Data::ProgrammableTransaction(ptb)) = &kind.data else {
            return Err(Status::invalid_argument("only programmable transactions"));
        };
        let commands = ptb
            .commands
            .iter()
            .map(|c| {
                sui_sdk_types::Command::try_from(c)
                    .map_err(|e| Status::invalid_argument(format!("command: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.node.read(|chain| {
            let objects = &chain.world.objects;
            let pkg = chain.world.ids.package;
            let clock = chain.world.clock_ms;
            let mut inputs = Vec::new();
            let mut used = Vec::new();
            for input in &ptb.inputs {
                let kind = input.kind();
                if kind == InputKind::Pure {
                    inputs.push(Input::Pure(
                        input.pure.as_deref().unwrap_or_default().to_vec(),
                    ));
                    continue;
                }
                let id = address(input.object_id.as_deref(), "input.object_id")?;
                let obj = objects.get(&id).ok_or_else(|| {
                    Status::not_found(format!("input object {id} does not exist"))
                })?;
                used.push(id);
                inputs.push(match obj.initial_shared_version() {
                    Some(v) => {
                        let mutable = input.mutable.unwrap_or(!matches!(obj.kind, Kind::Clock));
                        Input::Shared(SharedInput::new(id, v, mutable))
                    }
                    None => Input::ImmutableOrOwned(obj.reference(pkg, clock)),
                });
            }
            let payment = tx.gas_payment.clone().unwrap_or_default();
            let price = payment.price.unwrap_or(REFERENCE_GAS_PRICE);
            let budget = payment.budget.unwrap_or(DEFAULT_GAS_BUDGET);
            let mut gas: Vec<ObjectReference> = payment
                .objects
                .iter()
                .map(|r| {
                    let id = address(r.object_id.as_deref(), "gas object id")?;
                    objects
                        .get(&id)
                        .map(|o| o.reference(pkg, clock))
                        .ok_or_else(|| Status::not_found(format!("gas object {id} does not exist")))
                })
                .collect::<Result<_, _>>()?;
            if gas.is_empty() && select_gas {
                let mut coins: Vec<_> = objects
                    .owned_by(&sender)
                    .filter(|o| o.balance().is_some() && !used.contains(&o.id))
                    .collect();
                coins.sort_by_key(|o| std::cmp::Reverse(o.balance()));
                let mut total = 0u64;
                for c in coins {
                    if total >= budget {
                        break;
                    }
                    total = total.saturating_add(c.balance().unwrap_or(0));
                    gas.push(c.reference(pkg, clock));
                }
                if total < budget {
                    return Err(Status::failed_precondition(format!(
                        "{sender} has {total} MIST in coins, less than the gas budget {budget}"
                    )));
                }
            }
            Ok(Transaction {
                kind: TransactionKind::ProgrammableTransaction(ProgrammableTransaction {
                    inputs,
                    commands,
                }),
                sender,
                gas_payment: GasPayment {
                    objects: gas,
                    owner: sender,
                    price,
                    budget,
                },
                expiration: TransactionExpiration::None,
            })
        })
    }
}

#[tonic::async_trait]
impl TransactionExecutionService for Rpc {
    async fn execute_transaction(
        &self,
        request: Request<ExecuteTransactionRequest>,
    ) -> Result<Response<ExecuteTransactionResponse>, Status> {
        let req = request.into_inner();
        let tx = req
            .transaction
            .as_ref()
            .ok_or_else(|| Status::invalid_argument("transaction is required"))?;
        let tx = self.resolve(tx, false)?;
        let signatures = req
            .signatures
            .iter()
            .map(|s| {
                UserSignature::try_from(s)
                    .map_err(|e| Status::invalid_argument(format!("signature: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mask = ExecuteMask::parse(req.read_mask.as_ref())?;
        let before = self.node.read(|c| balances::coins_before(c, &tx));
        // Execution is ~100 µs of CPU under the chain's lock: run it here rather
        // than pay a hand-off to the blocking pool for every transaction.
        let executed = self.node.execute(tx, signatures).map_err(status)?;
        let mut out = executed_to_proto_masked(&executed, None, None, &mask.tree);
        if mask.tree.contains("balance_changes") {
            let changes = self
                .node
                .read(|c| balances::changes(c, &executed.effects, &before));
            match changes {
                Some(c) => out.balance_changes = c,
                None => tracing::warn!(
                    digest = %executed.digest,
                    "balance changes left out: a coin changed again before they were read"
                ),
            }
        }
        if mask.sender_signed
            && let Some(t) = out.transaction.as_mut()
        {
            t.bcs = Some(sender_signed_data(&executed));
        }
        let mut r = ExecuteTransactionResponse::default();
        r.transaction = Some(out);
        Ok(Response::new(r))
    }

    async fn simulate_transaction(
        &self,
        request: Request<SimulateTransactionRequest>,
    ) -> Result<Response<SimulateTransactionResponse>, Status> {
        let req = request.into_inner();
        let tx = req
            .transaction
            .as_ref()
            .ok_or_else(|| Status::invalid_argument("transaction is required"))?;
        let mask = objects::read_mask::<SimulateTransactionResponse>(req.read_mask.as_ref())?;
        let tx = self.resolve(tx, req.do_gas_selection.unwrap_or(false))?;
        let node = self.node.clone();
        let executed = tokio::task::spawn_blocking(move || node.simulate(tx))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(status)?;
        let mut r = SimulateTransactionResponse::default();
        r.transaction = mask
            .subtree("transaction")
            .map(|sub| executed_to_proto_masked(&executed, None, None, &sub));
        r.suggested_gas_price = Some(REFERENCE_GAS_PRICE);
        Ok(Response::new(r))
    }
}

#[tonic::async_trait]
impl StateService for Rpc {
    async fn list_owned_objects(
        &self,
        request: Request<ListOwnedObjectsRequest>,
    ) -> Result<Response<ListOwnedObjectsResponse>, Status> {
        let req = request.into_inner();
        let owner = address(req.owner.as_deref(), "owner")?;
        let page = req.page_size.unwrap_or(50).clamp(1, 1000) as usize;
        let after = match req.page_token.as_deref() {
            Some(t) => Some(
                Address::from_bytes(t)
                    .map_err(|e| Status::invalid_argument(format!("page_token: {e}")))?,
            ),
            None => None,
        };
        let want_type = req.object_type.clone();
        let mask = objects::read_mask::<pb::Object>(req.read_mask.as_ref())?;
        let (objects, next) = self.node.read(|c| {
            let pkg = c.world.ids.package;
            let mut out = Vec::new();
            let mut next = None;
            for o in c
                .world
                .objects
                .owned_by(&owner)
                .filter(|o| after.is_none_or(|a| o.id > a))
            {
                let ty = o.type_tag(pkg).to_string();
                if want_type.as_deref().is_some_and(|w| !type_matches(w, &ty)) {
                    continue;
                }
                if out.len() == page {
                    next = out.last().map(|(id, _): &(Address, pb::Object)| {
                        prost::bytes::Bytes::copy_from_slice(id.as_bytes())
                    });
                    break;
                }
                out.push((o.id, objects::render(c, o, &mask)));
            }
            (out.into_iter().map(|(_, p)| p).collect::<Vec<_>>(), next)
        });
        let mut r = ListOwnedObjectsResponse::default();
        r.objects = objects;
        r.next_page_token = next;
        Ok(Response::new(r))
    }

    async fn get_balance(
        &self,
        request: Request<GetBalanceRequest>,
    ) -> Result<Response<GetBalanceResponse>, Status> {
        let req = request.into_inner();
        let owner = address(req.owner.as_deref(), "owner")?;
        let coin_type = req.coin_type.unwrap_or_else(|| "0x2::sui::SUI".into());
        if !type_matches(&coin_type, "0x2::sui::SUI") {
            return Err(Status::not_found(format!(
                "the dev chain has only SUI, not {coin_type}"
            )));
        }
        let b = self
            .node
            .read(|c| balances::sui_balance(c, &owner, coin_type));
        let mut r = GetBalanceResponse::default();
        r.balance = Some(b);
        Ok(Response::new(r))
    }

    async fn list_balances(
        &self,
        request: Request<ListBalancesRequest>,
    ) -> Result<Response<ListBalancesResponse>, Status> {
        let req = request.into_inner();
        let owner = address(req.owner.as_deref(), "owner")?;
        // The one page never has a next one, so no token is valid.
        if req.page_token.is_some() {
            return Err(Status::invalid_argument(
                "page_token: the dev chain has only SUI, in one page",
            ));
        }
        let b = self
            .node
            .read(|c| balances::sui_balance(c, &owner, "0x2::sui::SUI".into()));
        let mut r = ListBalancesResponse::default();
        // As a full node: an address without coins has no balance entries.
        if b.balance.is_some_and(|v| v > 0) {
            r.balances = vec![b];
        }
        Ok(Response::new(r))
    }
}

/// How an `ExecuteTransaction` read mask is read. A full node reads its
/// paths as fields of `ExecutedTransaction` and refuses others. `@mysten/sui`
/// 1.x's gRPC client sends paths of the response instead
/// (`transaction.effects`, `transaction.transaction`, ...), which a full node
/// refuses; the dev chain accepts that form too, and then answers
/// `transaction.bcs` as that client parses it (`SenderSignedData`), decision 0018.
struct ExecuteMask {
    tree: FieldMaskTree,
    /// `transaction.bcs` carries `SenderSignedData` (the SDK 1.x form).
    sender_signed: bool,
}

impl ExecuteMask {
    fn parse(mask: Option<&FieldMask>) -> Result<Self, Status> {
        let real = objects::read_mask::<pb::ExecutedTransaction>(mask);
        let Some(m) = mask.filter(|_| real.is_err()) else {
            return real.map(|tree| Self {
                tree,
                sender_signed: false,
            });
        };
        let stripped: Option<Vec<&str>> = m
            .paths
            .iter()
            .map(|p| p.strip_prefix("transaction."))
            .collect();
        let stripped = FieldMask::from_paths(stripped.unwrap_or_default());
        if stripped.paths.is_empty() || stripped.validate::<pb::ExecutedTransaction>().is_err() {
            return real.map(|tree| Self {
                tree,
                sender_signed: false,
            });
        }
        let sender_signed = stripped.paths.iter().any(|p| p == "transaction");
        Ok(Self {
            tree: FieldMaskTree::from_field_mask(&stripped),
            sender_signed,
        })
    }
}

/// BCS of `SenderSignedData` (a vector of one transaction with its intent
/// and signatures), as `@mysten/sui` 1.x reads `transaction.bcs`.
fn sender_signed_data(t: &Executed) -> Bcs {
    let signatures: Vec<Vec<u8>> = t.signatures.iter().map(|s| s.to_bytes()).collect();
    // Intent: scope TransactionData (0), version V0 (0), app Sui (0).
    let value = bcs::to_bytes(&vec![([0u8; 3], &t.transaction, signatures)])
        .expect("BCS of a transaction and byte vectors cannot fail");
    let mut out = Bcs::default();
    out.name = Some("SenderSignedData".into());
    out.value = Some(value.into());
    out
}

/// Compares Move types written with short or long addresses (`0x2` vs `0x000…002`).
fn type_matches(want: &str, have: &str) -> bool {
    let norm = |s: &str| -> String {
        s.split(['<', '>', ','])
            .flat_map(|part| part.split("::"))
            .map(|seg| {
                let seg = seg.trim();
                match seg.parse::<daas_domain::Address>() {
                    Ok(a) if seg.starts_with("0x") => a.to_string(),
                    _ => seg.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join("::")
    };
    norm(want) == norm(have)
}

#[cfg(test)]
mod tests {
    use super::{ExecuteMask, type_matches};
    use prost_types::FieldMask;
    use sui_rpc::field::FieldMaskUtil;

    #[test]
    fn a_full_node_mask_is_read_as_is() {
        let m = ExecuteMask::parse(Some(&FieldMask::from_str("effects.bcs,transaction.digest")))
            .expect("valid");
        assert!(!m.sender_signed);
        assert!(m.tree.contains("effects.bcs"));
        assert!(m.tree.contains("transaction.digest"));
        assert!(!m.tree.contains("events"));
        let all = ExecuteMask::parse(None).expect("no mask");
        assert!(all.tree.contains("balance_changes") && !all.sender_signed);
    }

    #[test]
    fn the_sdk_1x_mask_is_read_relative_to_the_response() {
        // What @mysten/sui 1.45's GrpcCoreClient.executeTransaction sends.
        let sdk = "transaction.digest,transaction.transaction,transaction.effects,\
                   transaction.signatures,transaction.balance_changes";
        let m = ExecuteMask::parse(Some(&FieldMask::from_str(sdk))).expect("accepted");
        assert!(m.sender_signed);
        for p in [
            "digest",
            "transaction",
            "effects",
            "signatures",
            "balance_changes",
        ] {
            assert!(m.tree.contains(p), "{p}");
        }
        assert!(!m.tree.contains("events"));
        // Only the response-relative form of the whole transaction asks for SenderSignedData.
        let m = ExecuteMask::parse(Some(&FieldMask::from_str("transaction.effects.status")))
            .expect("accepted");
        assert!(!m.sender_signed && m.tree.contains("effects.status"));
    }

    proptest::proptest! {
        /// Hostile masks (any text, any nesting, `*`, empty segments) are
        /// either read or refused as `INVALID_ARGUMENT`; none panics.
        #[test]
        fn any_mask_is_read_or_refused(
            paths in proptest::collection::vec("[a-z_.*]{0,40}|\\PC{0,24}", 0..6)
        ) {
            let m = FieldMask { paths };
            for code in [
                ExecuteMask::parse(Some(&m)).err().map(|e| e.code()),
                super::objects::read_mask::<super::pb::Object>(Some(&m)).err().map(|e| e.code()),
            ] {
                proptest::prop_assert!(code.is_none_or(|c| c == tonic::Code::InvalidArgument));
            }
        }
    }

    #[test]
    fn unknown_paths_are_refused() {
        for bad in [
            "nope",
            "transaction.nope",
            "effects.nope,digest",
            "transaction.effects,nope",
        ] {
            let e = ExecuteMask::parse(Some(&FieldMask::from_str(bad))).err();
            assert_eq!(
                e.map(|e| e.code()),
                Some(tonic::Code::InvalidArgument),
                "{bad}"
            );
        }
    }

    #[test]
    fn short_and_long_addresses_match() {
        assert!(type_matches(
            "0x2::sui::SUI",
            "0x0000000000000000000000000000000000000000000000000000000000000002::sui::SUI"
        ));
        assert!(type_matches(
            "0x2::coin::Coin<0x2::sui::SUI>",
            "0x2::coin::Coin<0x0000000000000000000000000000000000000000000000000000000000000002::sui::SUI>"
        ));
        assert!(!type_matches("0x2::sui::SUI", "0x3::sui::SUI"));
    }
}
