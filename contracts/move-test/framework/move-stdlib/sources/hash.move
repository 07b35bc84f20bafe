module std::hash;

/// SHA2-256 of `data`.
native public fun sha2_256(data: vector<u8>): vector<u8>;
