#[test_only]
module sui::test_utils;

/// Consumes any value (for objects without `drop` at the end of a test).
public fun destroy<T>(x: T) { std::unit_test::destroy(x) }
