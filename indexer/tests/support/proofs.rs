//! Independent checks of the proofs in a log, with sui-sdk-types' own
//! decoders and digests and sui-crypto's BLS verifier (not the indexer's
//! code): every checkpoint summary is signed by a quorum of the dev chain's
//! committee of its epoch; every record's event is in a transaction whose
//! effects are in a checkpoint's contents whose digest is in the summary; each
//! epoch change is an end-of-epoch summary.

use anyhow::{Context, bail, ensure};
use daas_devnet::committee::Validators;
use daas_domain::record::CheckpointProofBytes;
use daas_domain::{Body, LogEntry};
use sui_crypto::bls12381::ValidatorCommitteeSignatureVerifier;
use sui_sdk_types::{
    CheckpointContents, CheckpointSummary, TransactionEffects, TransactionEvents,
    ValidatorAggregatedSignature,
};

/// What the proof checks saw.
#[derive(Debug, Default)]
pub struct Checked {
    /// Records of events checked.
    pub events: usize,
    /// Checkpoint proofs checked (epoch changes included).
    pub checkpoints: usize,
    /// Transaction proofs checked.
    pub transactions: usize,
    /// Epoch change records: (checkpoint, epoch).
    pub epoch_changes: Vec<(u64, u64)>,
}

/// The proofs of the current checkpoint and transaction while walking the log.
struct Walk<'a> {
    validators: &'a Validators,
    checkpoint: Option<(u64, CheckpointSummary, CheckpointContents)>,
    transaction: Option<((u64, u64), TransactionEvents)>,
}

/// Checks every record of `log` (in log order) against the proofs it and the
/// records before it carry; the rule is "first record of each checkpoint /
/// transaction in the log carries the proof, no other does".
/// `validators` are the chain's (from its seed), the committees the
/// signatures must verify against.
pub fn check_log(log: &[LogEntry], validators: &Validators) -> anyhow::Result<Checked> {
    let mut walk = Walk {
        validators,
        checkpoint: None,
        transaction: None,
    };
    let mut checked = Checked::default();
    for (i, e) in log.iter().enumerate() {
        let at = e.position;
        let r = if let Body::EpochChange { epoch } = e.body {
            checked.epoch_changes.push((at.checkpoint, epoch));
            check_epoch_change(e, epoch, validators)
        } else {
            walk.check_event(e, &mut checked)
        };
        r.with_context(|| format!("record {i} at {at}"))?;
    }
    Ok(checked)
}

/// The summary in `proof`, once its signature verifies against the committee of its epoch.
fn certified(
    proof: &CheckpointProofBytes,
    validators: &Validators,
) -> anyhow::Result<CheckpointSummary> {
    let summary: CheckpointSummary = bcs::from_bytes(&proof.summary_bcs)?;
    let signature: ValidatorAggregatedSignature = bcs::from_bytes(&proof.signature_bcs)?;
    ValidatorCommitteeSignatureVerifier::new(validators.committee(summary.epoch))?
        .verify_checkpoint_summary(&summary, &signature)
        .context("the summary's signature")?;
    Ok(summary)
}

fn check_epoch_change(e: &LogEntry, epoch: u64, validators: &Validators) -> anyhow::Result<()> {
    let proof = e
        .proof
        .checkpoint
        .as_ref()
        .context("an epoch change without its summary")?;
    let summary = certified(proof, validators)?;
    ensure!(
        summary.sequence_number == e.position.checkpoint,
        "another checkpoint's summary"
    );
    ensure!(
        summary.epoch == epoch,
        "the summary is of epoch {}",
        summary.epoch
    );
    ensure!(
        summary.end_of_epoch_data.is_some(),
        "not an end-of-epoch summary"
    );
    ensure!(
        proof.contents_bcs.is_empty() && e.bcs.is_empty(),
        "an epoch change carries no contents"
    );
    ensure!(
        summary.timestamp_ms == e.checkpoint_timestamp_ms,
        "timestamp"
    );
    Ok(())
}

impl Walk<'_> {
    fn check_event(&mut self, e: &LogEntry, checked: &mut Checked) -> anyhow::Result<()> {
        let at = e.position;
        let new_checkpoint = self
            .checkpoint
            .as_ref()
            .is_none_or(|c| c.0 != at.checkpoint);
        match (&e.proof.checkpoint, new_checkpoint) {
            (Some(p), true) => {
                let summary = certified(p, self.validators)?;
                let contents: CheckpointContents = bcs::from_bytes(&p.contents_bcs)?;
                ensure!(
                    summary.sequence_number == at.checkpoint,
                    "another checkpoint's summary"
                );
                ensure!(
                    contents.digest() == summary.content_digest,
                    "contents digest"
                );
                ensure!(
                    summary.timestamp_ms == e.checkpoint_timestamp_ms,
                    "timestamp"
                );
                self.checkpoint = Some((at.checkpoint, summary, contents));
                checked.checkpoints += 1;
            }
            (None, false) => {}
            (Some(_), false) => {
                bail!("a checkpoint proof on a record that is not its checkpoint's first")
            }
            (None, true) => bail!("the first record of its checkpoint carries no proof"),
        }
        let key = (at.checkpoint, at.transaction_index);
        let new_transaction = self.transaction.as_ref().is_none_or(|t| t.0 != key);
        match (&e.proof.transaction, new_transaction) {
            (Some(p), true) => {
                let effects: TransactionEffects = bcs::from_bytes(&p.effects_bcs)?;
                let events: TransactionEvents = bcs::from_bytes(&p.events_bcs)?;
                let (_, _, contents) = self.checkpoint.as_ref().context("no checkpoint")?;
                let info = contents
                    .transactions()
                    .iter()
                    .find(|t| t.transaction().inner() == &e.transaction_digest)
                    .context("the transaction is not in the checkpoint's contents")?;
                ensure!(*info.effects() == effects.digest(), "effects digest");
                ensure!(
                    effects.events_digest() == Some(&events.digest()),
                    "events digest"
                );
                self.transaction = Some((key, events));
                checked.transactions += 1;
            }
            (None, false) => {}
            (Some(_), false) => {
                bail!("a transaction proof on a record that is not its transaction's first")
            }
            (None, true) => bail!("the first record of its transaction carries no proof"),
        }
        let (_, events) = self.transaction.as_ref().context("no transaction")?;
        let event = usize::try_from(at.event_index)
            .ok()
            .and_then(|i| events.0.get(i))
            .context("no event at the record's index")?;
        ensure!(
            event.contents == e.bcs,
            "the record's BCS is not the certified event's"
        );
        ensure!(event.sender.into_inner() == e.sender.0, "sender");
        checked.events += 1;
        Ok(())
    }
}
