module std::string;

/// A UTF-8 string.
public struct String has copy, drop, store {
    bytes: vector<u8>,
}

const EInvalidUTF8: u64 = 1;

/// A string from bytes; aborts unless they are UTF-8.
public fun utf8(bytes: vector<u8>): String {
    assert!(internal_check_utf8(&bytes), EInvalidUTF8);
    String { bytes }
}

public fun as_bytes(s: &String): &vector<u8> { &s.bytes }

public fun into_bytes(s: String): vector<u8> {
    let String { bytes } = s;
    bytes
}

public fun is_empty(s: &String): bool { s.bytes.is_empty() }

public fun length(s: &String): u64 { s.bytes.length() }

public fun append(s: &mut String, r: String) { s.bytes.append(r.bytes) }

public native fun internal_check_utf8(v: &vector<u8>): bool;
