//! `daas::enclave`: PCR sets and enclave keys.

use daas_domain::{Bytes, events::*};
use sha2::{Digest, Sha256};

use super::{Abort, ContractState, Ctx, ENCLAVE, check, codes::*};

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
        Ok(Event::EnclaveRegistered(EnclaveRegistered {
            pcr_version,
            public_key: Bytes(public_key),
            attestation_digest: Bytes(Sha256::digest(&attestation).to_vec()),
            registered_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }
}
