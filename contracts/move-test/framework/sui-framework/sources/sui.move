module sui::sui;

/// The SUI coin type.
public struct SUI has drop {}
