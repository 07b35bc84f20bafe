module std::option;

/// Zero or one value (a vector of length at most 1, as in the real stdlib).
public struct Option<Element> has copy, drop, store {
    vec: vector<Element>,
}

const EOPTION_IS_SET: u64 = 0x40000;
const EOPTION_NOT_SET: u64 = 0x40001;

public fun none<Element>(): Option<Element> { Option { vec: vector::empty() } }

public fun some<Element>(e: Element): Option<Element> { Option { vec: vector::singleton(e) } }

public fun is_none<Element>(t: &Option<Element>): bool { t.vec.is_empty() }

public fun is_some<Element>(t: &Option<Element>): bool { !t.vec.is_empty() }

public fun borrow<Element>(t: &Option<Element>): &Element {
    assert!(t.is_some(), EOPTION_NOT_SET);
    &t.vec[0]
}

public fun destroy_some<Element>(t: Option<Element>): Element {
    assert!(t.is_some(), EOPTION_NOT_SET);
    let Option { mut vec } = t;
    let elem = vec.pop_back();
    vec.destroy_empty();
    elem
}

public fun destroy_none<Element>(t: Option<Element>) {
    assert!(t.is_none(), EOPTION_IS_SET);
    let Option { vec } = t;
    vec.destroy_empty()
}
