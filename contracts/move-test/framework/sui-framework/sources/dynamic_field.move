module sui::dynamic_field;

/// A field stored as a child object of its parent.
public struct Field<Name: copy + drop + store, Value: store> has key {
    id: UID,
    name: Name,
    value: Value,
}

const EFieldAlreadyExists: u64 = 0;

public fun add<Name: copy + drop + store, Value: store>(object: &mut UID, name: Name, value: Value) {
    let object_addr = object.to_address();
    let hash = hash_type_and_key(object_addr, name);
    assert!(!has_child_object(object_addr, hash), EFieldAlreadyExists);
    let field = Field { id: object::new_uid_from_hash(hash), name, value };
    add_child_object(object_addr, field)
}

public fun borrow<Name: copy + drop + store, Value: store>(object: &UID, name: Name): &Value {
    let hash = hash_type_and_key(object.to_address(), name);
    let field = borrow_child_object<Field<Name, Value>>(object, hash);
    &field.value
}

public fun borrow_mut<Name: copy + drop + store, Value: store>(object: &mut UID, name: Name): &mut Value {
    let hash = hash_type_and_key(object.to_address(), name);
    let field = borrow_child_object_mut<Field<Name, Value>>(object, hash);
    &mut field.value
}

public fun remove<Name: copy + drop + store, Value: store>(object: &mut UID, name: Name): Value {
    let object_addr = object.to_address();
    let hash = hash_type_and_key(object_addr, name);
    let Field { id, name: _, value } = remove_child_object<Field<Name, Value>>(object_addr, hash);
    id.delete();
    value
}

public fun exists_<Name: copy + drop + store>(object: &UID, name: Name): bool {
    let object_addr = object.to_address();
    has_child_object(object_addr, hash_type_and_key(object_addr, name))
}

public(package) native fun hash_type_and_key<K: copy + drop + store>(parent: address, k: K): address;

public(package) native fun add_child_object<Child: key>(parent: address, child: Child);

public(package) native fun borrow_child_object<Child: key>(object: &UID, id: address): &Child;

public(package) native fun borrow_child_object_mut<Child: key>(object: &mut UID, id: address): &mut Child;

public(package) native fun remove_child_object<Child: key>(parent: address, id: address): Child;

public(package) native fun has_child_object(parent: address, id: address): bool;
