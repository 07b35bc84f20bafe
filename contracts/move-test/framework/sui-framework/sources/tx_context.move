module sui::tx_context;

/// The transaction being executed; the VM passes it to entry points.
public struct TxContext has drop {
    sender: address,
    tx_hash: vector<u8>,
    epoch: u64,
    epoch_timestamp_ms: u64,
    ids_created: u64,
}

public fun sender(_self: &TxContext): address { native_sender() }

public fun epoch(_self: &TxContext): u64 { native_epoch() }

public fun epoch_timestamp_ms(_self: &TxContext): u64 { native_epoch_timestamp_ms() }

public fun digest(self: &TxContext): &vector<u8> { &self.tx_hash }

public fun fresh_object_address(_ctx: &mut TxContext): address { fresh_id() }

native fun native_sender(): address;
native fun native_epoch(): u64;
native fun native_epoch_timestamp_ms(): u64;
native fun fresh_id(): address;
native fun native_rgp(): u64;
native fun native_gas_price(): u64;
native fun native_ids_created(): u64;
native fun native_gas_budget(): u64;
native fun native_sponsor(): vector<address>;

#[test_only]
native fun replace(
    sender: address,
    tx_hash: vector<u8>,
    epoch: u64,
    epoch_timestamp_ms: u64,
    ids_created: u64,
    rgp: u64,
    gas_price: u64,
    gas_budget: u64,
    sponsor: vector<address>,
);

#[test_only]
/// A context for `sender` at `epoch` (tx hash from `hint`).
public fun new_from_hint(
    sender: address,
    hint: u64,
    epoch: u64,
    epoch_timestamp_ms: u64,
    ids_created: u64,
): TxContext {
    let mut tx_hash = std::bcs::to_bytes(&hint);
    while (tx_hash.length() < 32) tx_hash.push_back(0);
    replace(
        sender,
        tx_hash,
        epoch,
        epoch_timestamp_ms,
        ids_created,
        native_rgp(),
        native_gas_price(),
        native_gas_budget(),
        native_sponsor(),
    );
    TxContext { sender: @0x0, tx_hash, epoch: 0, epoch_timestamp_ms: 0, ids_created: 0 }
}

#[test_only]
public fun dummy(): TxContext { new_from_hint(@0x0, 0, 0, 0, 0) }

#[test_only]
/// Moves the context to the next epoch (for lock-period tests).
public fun increment_epoch_number(self: &mut TxContext) {
    replace(
        native_sender(),
        self.tx_hash,
        native_epoch() + 1,
        native_epoch_timestamp_ms(),
        native_ids_created(),
        native_rgp(),
        native_gas_price(),
        native_gas_budget(),
        native_sponsor(),
    );
}
