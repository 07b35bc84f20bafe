//! `daas::enclave`: PCR sets, enclave keys and clusters' sealing keys.

use daas_domain::{Bytes, ObjectId, events::*};
use sha2::{Digest, Sha256};

use super::{Abort, ContractState, Ctx, ENCLAVE, check, codes::*, next_seq};

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

    /// `enclave::register_enclave`.
    pub fn register_enclave(
        &mut self,
        ctx: Ctx,
        pcr_version: u64,
        public_key: Vec<u8>,
        attestation: Vec<u8>,
    ) -> Result<Event, Abort> {
        const F: &str = "register_enclave";
        check(
            self.pcr_sets.contains_key(&pcr_version),
            ENCLAVE,
            F,
            E_UNKNOWN_PCR_VERSION,
        )?;
        check(public_key.len() == 32, ENCLAVE, F, E_BAD_ENCLAVE_KEY)?;
        check(!attestation.is_empty(), ENCLAVE, F, E_EMPTY_ATTESTATION)?;
        self.enclaves.insert(Bytes(public_key.clone()), pcr_version);
        // Step 0 of issue 16: the old admin path with the new event's
        // fields defaulted; helper B replaces it with the attested path.
        let _ = Sha256::digest(&attestation);
        Ok(Event::EnclaveRegistered(EnclaveRegistered {
            cluster_id: ObjectId::default(),
            pcr_version,
            public_key: Bytes(public_key),
            sealing_key_version: 0,
            sealing_public_key: Bytes(Vec::new()),
            module_id: Bytes(Vec::new()),
            attestation_timestamp_ms: 0,
            registered_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.enclave_event_seq),
        }))
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
        let public_key = Bytes(public_key);
        self.sealing_keys
            .insert(cluster_id, (version, public_key.clone()));
        Ok(Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id,
            version,
            public_key,
            registered_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.enclave_event_seq),
        }))
    }

    /// `enclave::sealing_key_version`: the cluster's current version, 0 when none.
    pub fn sealing_key_version(&self, cluster_id: ObjectId) -> u64 {
        self.sealing_keys.get(&cluster_id).map_or(0, |(v, _)| *v)
    }
}

#[cfg(test)]
mod tests {
    use daas_domain::Address;

    use super::*;

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
