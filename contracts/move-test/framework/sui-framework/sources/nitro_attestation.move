module sui::nitro_attestation;

use sui::clock::Clock;

/// One PCR of a document: its index and value.
public struct PCREntry has drop {
    index: u8,
    value: vector<u8>,
}

/// An AWS Nitro attestation document the native verified.
public struct NitroAttestationDocument has drop {
    module_id: vector<u8>,
    timestamp: u64,
    digest: vector<u8>,
    pcrs: vector<PCREntry>,
    public_key: Option<vector<u8>>,
    user_data: Option<vector<u8>>,
    nonce: Option<vector<u8>>,
}

/// Verifies `attestation` at the clock's time and returns its payload.
/// (The offline VM binds the native but aborts it with code 0, "not
/// supported": tests cannot make a document.)
entry fun load_nitro_attestation(attestation: vector<u8>, clock: &Clock): NitroAttestationDocument {
    load_nitro_attestation_internal(&attestation, clock.timestamp_ms())
}

public fun module_id(attestation: &NitroAttestationDocument): &vector<u8> { &attestation.module_id }

public fun timestamp(attestation: &NitroAttestationDocument): &u64 { &attestation.timestamp }

public fun digest(attestation: &NitroAttestationDocument): &vector<u8> { &attestation.digest }

public fun pcrs(attestation: &NitroAttestationDocument): &vector<PCREntry> { &attestation.pcrs }

public fun public_key(attestation: &NitroAttestationDocument): &Option<vector<u8>> { &attestation.public_key }

public fun user_data(attestation: &NitroAttestationDocument): &Option<vector<u8>> { &attestation.user_data }

public fun nonce(attestation: &NitroAttestationDocument): &Option<vector<u8>> { &attestation.nonce }

public fun index(entry: &PCREntry): u8 { entry.index }

public fun value(entry: &PCREntry): &vector<u8> { &entry.value }

native fun load_nitro_attestation_internal(attestation: &vector<u8>, current_timestamp: u64): NitroAttestationDocument;
