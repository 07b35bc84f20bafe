#[test_only]
module std::unit_test;

/// Poisons test-mode modules (the VM binds it only in unit-test mode).
public native fun poison();

/// Consumes any value, whatever its abilities.
public native fun destroy<T>(v: T);
