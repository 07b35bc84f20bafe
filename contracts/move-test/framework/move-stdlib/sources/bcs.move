module std::bcs;

/// The BCS bytes of any value.
native public fun to_bytes<MoveValue>(v: &MoveValue): vector<u8>;
