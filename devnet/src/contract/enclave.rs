//! `daas::enclave`: PCR sets, attested enclaves, clusters' sealing keys,
//! receipts.

use daas_attestation::{Document, Receipt, UserData};
use daas_domain::{Bytes, ObjectId, events::*};
use serde::{Deserialize, Serialize};

use super::{Abort, ContractState, Ctx, ENCLAVE, check, codes::*, next_seq};

/// `enclave::EnclaveInfo`: what the newest registration of a key recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnclaveInfo {
    /// The cluster its document's `user_data` names.
    pub cluster_id: ObjectId,
    /// The PCR set its document matched.
    pub pcr_version: u64,
    /// The sealing key version its document names.
    pub sealing_key_version: u64,
    /// Its document's timestamp, ms.
    pub attestation_timestamp_ms: u64,
}

/// What `register_enclave` reads from a verified document: the parameters
/// of Move's `register_attested`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attested {
    /// `module_id`.
    pub module_id: Vec<u8>,
    /// `timestamp`, ms.
    pub timestamp_ms: u64,
    /// PCR0, PCR1, PCR2 (empty when the document has none).
    pub pcrs: [Vec<u8>; 3],
    /// `public_key`.
    pub public_key: Option<Vec<u8>>,
    /// `user_data`.
    pub user_data: Option<Vec<u8>>,
}

impl Attested {
    /// Move's `register_enclave` on the document the native returned: PCRs
    /// looked up by index among the entries Sui's native returns.
    pub fn of(document: &Document) -> Self {
        let entries = document.sui_pcr_entries();
        let pcr = |index: u8| {
            entries
                .iter()
                .find(|(i, _)| *i == index)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Self {
            module_id: document.module_id.clone().into_bytes(),
            timestamp_ms: document.timestamp_ms,
            pcrs: [pcr(0), pcr(1), pcr(2)],
            public_key: document.public_key.clone(),
            user_data: document.user_data.clone(),
        }
    }
}

/// Where Move's checks abort: `register_enclave` hands the document's
/// values to `register_attested`, so an abort's location names that function.
const ATTESTED: &str = "register_attested";

fn abort(code: u64) -> Abort {
    Abort {
        module: ENCLAVE,
        function: ATTESTED,
        code,
    }
}

impl ContractState {
    /// `enclave::register_pcrs`.
    pub fn register_pcrs(
        &mut self,
        ctx: Ctx,
        pcr0: Vec<u8>,
        pcr1: Vec<u8>,
        pcr2: Vec<u8>,
    ) -> Result<Event, Abort> {
        check(
            pcr0.len() == 48 && pcr1.len() == 48 && pcr2.len() == 48,
            ENCLAVE,
            "register_pcrs",
            E_BAD_PCR_LENGTH,
        )?;
        let version = self.latest_pcr_version + 1;
        self.latest_pcr_version = version;
        let set = [Bytes(pcr0), Bytes(pcr1), Bytes(pcr2)];
        self.pcr_sets.insert(version, set.clone());
        let [pcr0, pcr1, pcr2] = set;
        Ok(Event::PcrSetRegistered(PcrSetRegistered {
            version,
            pcr0,
            pcr1,
            pcr2,
            registered_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.enclave_event_seq),
        }))
    }

    /// `enclave::register_enclave(registry, cluster, document, clock)`: the
    /// document `load_nitro_attestation` verified, for `cluster_id`. Its
    /// events: `SealingKeyRegistered` when the document advances the
    /// cluster's sealing key, then `EnclaveRegistered`.
    pub fn register_enclave(
        &mut self,
        ctx: Ctx,
        cluster_id: ObjectId,
        document: &Document,
    ) -> Result<Vec<Event>, Abort> {
        self.register_attested(ctx, cluster_id, Attested::of(document))
    }

    /// `enclave::register_attested`: the checks of `register_enclave`, in
    /// Move's order (codes 407, 406, 403, 408, 409, 411, 410).
    pub fn register_attested(
        &mut self,
        ctx: Ctx,
        cluster_id: ObjectId,
        a: Attested,
    ) -> Result<Vec<Event>, Abort> {
        let pcr_version = self.latest_pcr_version;
        let set = self.pcr_sets.get(&pcr_version).ok_or(abort(E_NO_PCR_SET))?;
        let same = a.pcrs.iter().zip(set).all(|(d, s)| d == s.as_ref());
        check(same, ENCLAVE, ATTESTED, E_PCR_MISMATCH)?;
        let public_key = (a.public_key.as_ref())
            .filter(|k| k.len() == 32)
            .ok_or(abort(E_BAD_ENCLAVE_KEY))?;
        let user_data = (a.user_data.as_deref())
            .and_then(|u| UserData::decode(u).ok())
            .ok_or(abort(E_BAD_USER_DATA))?;
        check(
            user_data.cluster_id == cluster_id.0,
            ENCLAVE,
            ATTESTED,
            E_WRONG_CLUSTER,
        )?;
        if let Some(current) = self.current_enclave_info(cluster_id) {
            let newer = a.timestamp_ms > current.attestation_timestamp_ms;
            check(newer, ENCLAVE, ATTESTED, E_STALE_ATTESTATION)?;
        }
        let mut events = self.advance_sealing_key(ctx, cluster_id, &user_data)?;
        let public_key = Bytes(public_key.clone());
        let info = EnclaveInfo {
            cluster_id,
            pcr_version,
            sealing_key_version: user_data.sealing_key_version,
            attestation_timestamp_ms: a.timestamp_ms,
        };
        self.enclaves.insert(public_key.clone(), info);
        self.current_enclave.insert(cluster_id, public_key.clone());
        events.push(Event::EnclaveRegistered(EnclaveRegistered {
            cluster_id,
            pcr_version,
            public_key,
            sealing_key_version: user_data.sealing_key_version,
            sealing_public_key: Bytes(user_data.sealing_public_key.to_vec()),
            module_id: Bytes(a.module_id),
            attestation_timestamp_ms: a.timestamp_ms,
            registered_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.enclave_event_seq),
        }));
        Ok(events)
    }

    /// `enclave::advance_sealing_key`: the cluster's current key (no event),
    /// or the next version (registered), else `ESealingKeyVersion`.
    fn advance_sealing_key(
        &mut self,
        ctx: Ctx,
        cluster_id: ObjectId,
        u: &UserData,
    ) -> Result<Vec<Event>, Abort> {
        let current = self.sealing_keys.get(&cluster_id);
        if current
            .is_some_and(|(v, k)| *v == u.sealing_key_version && k.as_ref() == u.sealing_public_key)
        {
            return Ok(Vec::new());
        }
        let next = self.sealing_key_version(cluster_id) + 1;
        check(
            u.sealing_key_version == next,
            ENCLAVE,
            ATTESTED,
            E_SEALING_KEY_VERSION,
        )?;
        let key = Bytes(u.sealing_public_key.to_vec());
        Ok(vec![self.set_sealing_key(ctx, cluster_id, next, key)])
    }

    /// `enclave::register_sealing_key`: the cluster's `AdminCap` holder
    /// registers a 32-byte X25519 key as the cluster's next version.
    pub fn register_sealing_key(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        cluster_id: ObjectId,
        public_key: Vec<u8>,
    ) -> Result<Event, Abort> {
        const F: &str = "register_sealing_key";
        self.assert_admin(cap_pool_id, cluster_id, ENCLAVE, F)?;
        check(public_key.len() == 32, ENCLAVE, F, E_BAD_SEALING_KEY)?;
        let version = self.sealing_key_version(cluster_id) + 1;
        Ok(self.set_sealing_key(ctx, cluster_id, version, Bytes(public_key)))
    }

    /// `enclave::set_sealing_key`: the cluster's current sealing key becomes
    /// (`version`, `public_key`); its `SealingKeyRegistered`.
    fn set_sealing_key(
        &mut self,
        ctx: Ctx,
        cluster_id: ObjectId,
        version: u64,
        public_key: Bytes,
    ) -> Event {
        self.sealing_keys
            .insert(cluster_id, (version, public_key.clone()));
        Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id,
            version,
            public_key,
            registered_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.enclave_event_seq),
        })
    }

    /// `enclave::sealing_key_version`: the cluster's current version, 0 when none.
    pub fn sealing_key_version(&self, cluster_id: ObjectId) -> u64 {
        self.sealing_keys.get(&cluster_id).map_or(0, |(v, _)| *v)
    }

    /// `enclave::enclave_info`: what the newest registration of `public_key` recorded.
    pub fn enclave_info(&self, public_key: &[u8]) -> Option<&EnclaveInfo> {
        self.enclaves.get(&Bytes(public_key.to_vec()))
    }

    /// `enclave::current_enclave`: the key of the cluster's newest enclave.
    pub fn current_enclave(&self, cluster_id: ObjectId) -> Option<&Bytes> {
        self.current_enclave.get(&cluster_id)
    }

    fn current_enclave_info(&self, cluster_id: ObjectId) -> Option<&EnclaveInfo> {
        let key = self.current_enclave.get(&cluster_id)?;
        self.enclaves.get(key)
    }

    /// `enclave::verify_receipt`: `signature` is `enclave_key`'s over
    /// `bcs(IntentMessage { 1, timestamp_ms, receipt })`, and the key was
    /// registered (at any time) for the receipt's cluster. Malformed keys and
    /// signatures are `false`, as the native's are. (Ed25519 is checked
    /// strictly here; Sui's native follows ZIP-215, which differs only on
    /// non-canonical signatures the key holder itself would have to make.)
    pub fn verify_receipt(
        &self,
        receipt: &Receipt,
        timestamp_ms: u64,
        enclave_key: &[u8],
        signature: &[u8],
    ) -> bool {
        let registered = self
            .enclave_info(enclave_key)
            .is_some_and(|info| info.cluster_id.0 == receipt.cluster_id);
        let (Ok(key), Ok(sig)) = (
            <&[u8; 32]>::try_from(enclave_key),
            <&[u8; 64]>::try_from(signature),
        ) else {
            return false;
        };
        registered && daas_attestation::verify_receipt(key, receipt, timestamp_ms, sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use daas_domain::Address;

    use super::*;

    const CLUSTER: Address = Address([0xc1; 32]);

    /// A good document for `CLUSTER` at `at`: key `key`×32, sealing key `seal`×32 as `version`.
    fn attested(at: u64, key: u8, version: u64, seal: u8) -> Attested {
        let user_data = UserData {
            cluster_id: CLUSTER.0,
            sealing_key_version: version,
            sealing_public_key: [seal; 32],
        };
        Attested {
            module_id: b"k3s-daas-dev-enclave".to_vec(),
            timestamp_ms: at,
            pcrs: [vec![1; 48], vec![2; 48], vec![3; 48]],
            public_key: Some(vec![key; 32]),
            user_data: Some(user_data.encode().to_vec()),
        }
    }

    fn with_pcrs() -> ContractState {
        let mut s = ContractState::new(Address([0xaa; 32]));
        s.create_cluster(ctx(), s.pool_id, CLUSTER, "a".into());
        let (p0, p1, p2) = (vec![1; 48], vec![2; 48], vec![3; 48]);
        s.register_pcrs(ctx(), p0, p1, p2).expect("pcrs");
        s
    }

    fn code(s: &mut ContractState, a: Attested) -> u64 {
        let err = s.register_attested(ctx(), CLUSTER, a).expect_err("aborts");
        assert_eq!((err.module, err.function), ("enclave", "register_attested"));
        err.code
    }

    /// Each case breaks one check of a good document, in Move's order; the
    /// codes are the Move constants' numbers, written out.
    #[test]
    fn every_check_aborts_with_its_code_and_changes_nothing() {
        let mut none = ContractState::new(Address([0xaa; 32]));
        assert_eq!(code(&mut none, attested(1, 9, 1, 5)), 407);
        let mut s = with_pcrs();
        let cases: [(fn(&mut Attested), u64); 10] = [
            (|a| a.pcrs[0] = vec![0xee; 48], 406),
            (|a| a.pcrs[2] = vec![], 406),
            (|a| a.public_key = None, 403),
            (|a| a.public_key = Some(vec![9; 31]), 403),
            (|a| a.user_data = None, 408),
            (|a| a.user_data.as_mut().map_or((), |u| u[7] = b'2'), 408),
            (|a| a.user_data.as_mut().map_or((), |u| u.push(0)), 408),
            (|a| a.user_data.as_mut().map_or((), |u| u[8] ^= 1), 409),
            (|a| a.user_data.as_mut().map_or((), |u| u[40] = 2), 410),
            (|a| a.user_data.as_mut().map_or((), |u| u[40] = 0), 410),
        ];
        for (i, (breaks, want)) in cases.into_iter().enumerate() {
            let mut a = attested(1_000, 9, 1, 5);
            breaks(&mut a);
            assert_eq!(code(&mut s, a), want, "case {i}");
        }
        assert_eq!((s.enclave_event_seq, s.enclaves.len()), (1, 0));
        assert_eq!(s.sealing_key_version(CLUSTER), 0);
    }

    #[test]
    fn a_registration_records_the_key_and_advances_the_sealing_key_once() {
        let mut s = with_pcrs();
        let events = s.register_attested(ctx(), CLUSTER, attested(1_000, 9, 1, 5));
        let seqs = |events: Vec<Event>| events.iter().map(Event::seq).collect::<Vec<_>>();
        assert_eq!(events.map(seqs), Ok(vec![1, 2]));
        // A newer document of a restarted enclave, same sealing key: one event.
        let again = s.register_attested(ctx(), CLUSTER, attested(2_000, 8, 1, 5));
        let Ok([Event::EnclaveRegistered(e)]) = again.as_deref() else {
            panic!("{again:?}");
        };
        assert_eq!((e.seq, e.sealing_key_version, e.pcr_version), (3, 1, 1));
        assert_eq!(e.attestation_timestamp_ms, 2_000);
        assert_eq!(e.sealing_public_key.as_ref(), [5; 32]);
        assert_eq!(code(&mut s, attested(2_000, 7, 1, 5)), 411, "not newer");
        assert_eq!(
            code(&mut s, attested(3_000, 7, 1, 6)),
            410,
            "same version, other key"
        );
        assert_eq!(
            s.current_enclave(CLUSTER).map(|k| k.as_ref()),
            Some(&[8; 32][..])
        );
        let info = s.enclave_info(&[9; 32]).expect("the first key stays");
        assert_eq!(
            (info.cluster_id, info.attestation_timestamp_ms),
            (CLUSTER, 1_000)
        );
        let next = s.register_attested(ctx(), CLUSTER, attested(3_000, 7, 2, 6));
        assert_eq!(next.map(seqs), Ok(vec![4, 5]));
        assert_eq!(s.sealing_key_version(CLUSTER), 2);
    }

    /// `attestation/tests/vectors/receipt.json`, shared with the Move tests.
    #[test]
    fn the_shared_receipt_vector_verifies_only_under_its_clusters_registered_key() {
        let v: serde_json::Value = serde_json::from_str(include_str!(
            "../../../attestation/tests/vectors/receipt.json"
        ))
        .expect("receipt.json");
        let h = |k: &str| hex::decode(v[k].as_str().expect(k)).expect(k);
        let cluster = Address(h("cluster_id").try_into().expect("32 bytes"));
        let receipt = |result: u32| Receipt {
            cluster_id: cluster.0,
            request_id: v["request_id"].as_u64().expect("request_id"),
            outcome_digest: h("outcome_digest"),
            result,
            ledger_root: h("ledger_root"),
            ledger_root_offset: v["ledger_root_offset"].as_u64().expect("offset"),
        };
        let ts = v["timestamp_ms"].as_u64().expect("timestamp_ms");
        let (key, other, sig) = (h("public_key"), h("other_public_key"), h("signature"));
        let mut s = with_pcrs();
        let register = |s: &mut ContractState, cluster: Address, key: &[u8], at| {
            let mut a = attested(at, 0, 1, 5);
            a.public_key = Some(key.to_vec());
            let u = UserData {
                cluster_id: cluster.0,
                sealing_key_version: 1,
                sealing_public_key: [5; 32],
            };
            a.user_data = Some(u.encode().to_vec());
            s.register_attested(ctx(), cluster, a).expect("registers");
        };
        assert!(
            !s.verify_receipt(&receipt(0), ts, &key, &sig),
            "not registered yet"
        );
        // The vector's key registered for another cluster: a good signature does not count.
        register(&mut s, Address([0x23; 32]), &key, 1_000);
        assert!(!s.verify_receipt(&receipt(0), ts, &key, &sig));
        register(&mut s, cluster, &key, 1_000);
        register(&mut s, cluster, &other, 2_000);
        assert!(s.verify_receipt(&receipt(0), ts, &key, &sig));
        assert!(!s.verify_receipt(&receipt(13), ts, &key, &sig), "result 13");
        assert!(
            !s.verify_receipt(&receipt(0), ts + 1, &key, &sig),
            "another time"
        );
        assert!(
            !s.verify_receipt(&receipt(0), ts, &other, &sig),
            "the other key"
        );
        assert!(
            !s.verify_receipt(&receipt(0), ts, &key, &sig[..63]),
            "short signature"
        );
        assert!(
            !s.verify_receipt(&receipt(0), ts, &key[..31], &sig),
            "short key"
        );
    }

    fn ctx() -> Ctx {
        Ctx {
            sender: Address([9; 32]),
            epoch: 0,
            timestamp_ms: 1,
        }
    }

    #[test]
    fn sealing_keys_need_the_clusters_cap_and_32_bytes_and_count_per_cluster() {
        let mut s = ContractState::new(Address([0xaa; 32]));
        let (a, b) = (Address([0xc1; 32]), Address([0xc2; 32]));
        s.create_cluster(ctx(), s.pool_id, a, "a".into());
        s.create_cluster(ctx(), s.pool_id, b, "b".into());
        let foreign = Address([0xbb; 32]);
        let err = s
            .register_sealing_key(ctx(), foreign, a, vec![1; 32])
            .expect_err("another pool's cap");
        assert_eq!((err.module, err.code), ("gateway", E_NOT_CLUSTER_ADMIN));
        let err = s
            .register_sealing_key(ctx(), s.pool_id, a, vec![1; 31])
            .expect_err("31 bytes");
        assert_eq!((err.module, err.code), ("enclave", E_BAD_SEALING_KEY));
        assert_eq!(s.sealing_key_version(a), 0, "an abort changes nothing");
        let version = |e: Event| match e {
            Event::SealingKeyRegistered(k) => k.version,
            other => panic!("{other:?}"),
        };
        let pool = s.pool_id;
        let mut register = |cluster| s.register_sealing_key(ctx(), pool, cluster, vec![2; 32]);
        assert_eq!(register(a).map(version), Ok(1));
        assert_eq!(register(a).map(version), Ok(2));
        assert_eq!(register(b).map(version), Ok(1));
        assert_eq!((s.sealing_key_version(a), s.sealing_key_version(b)), (2, 1));
    }
}
