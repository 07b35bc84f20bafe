module sui::event;

/// Emits a custom event.
public native fun emit<T: copy + drop>(event: T);

#[test_only]
/// Events emitted so far in the current test.
public native fun num_events(): u32;

#[test_only]
/// The events of type `T` emitted so far in the current test.
public native fun events_by_type<T: copy + drop>(): vector<T>;
