#[defines_primitive(vector)]
module std::vector;

/// `.to_string()` on `vector<u8>`.
public use fun std::string::utf8 as vector.to_string;

#[bytecode_instruction]
native public fun empty<Element>(): vector<Element>;

#[bytecode_instruction]
native public fun length<Element>(v: &vector<Element>): u64;

#[syntax(index)]
#[bytecode_instruction]
native public fun borrow<Element>(v: &vector<Element>, i: u64): &Element;

#[bytecode_instruction]
native public fun push_back<Element>(v: &mut vector<Element>, e: Element);

#[syntax(index)]
#[bytecode_instruction]
native public fun borrow_mut<Element>(v: &mut vector<Element>, i: u64): &mut Element;

#[bytecode_instruction]
native public fun pop_back<Element>(v: &mut vector<Element>): Element;

#[bytecode_instruction]
native public fun destroy_empty<Element>(v: vector<Element>);

#[bytecode_instruction]
native public fun swap<Element>(v: &mut vector<Element>, i: u64, j: u64);

public fun singleton<Element>(e: Element): vector<Element> {
    let mut v = empty();
    v.push_back(e);
    v
}

public fun is_empty<Element>(v: &vector<Element>): bool {
    v.length() == 0
}

public fun append<Element>(lhs: &mut vector<Element>, mut other: vector<Element>) {
    let mut rev = empty();
    while (other.length() > 0) rev.push_back(other.pop_back());
    while (rev.length() > 0) lhs.push_back(rev.pop_back());
    rev.destroy_empty();
    other.destroy_empty();
}
