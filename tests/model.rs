//! Property test: random operation sequences on a memory store and on a plain `HashMap` model
//! must agree at every step.

use std::collections::HashMap;

use proptest::prelude::*;
use sessionstore::{value, ErrorKind, StoreFactory};

#[derive(Debug, Clone)]
enum Op {
    Set(usize, Vec<u8>),
    SetMany(Vec<(usize, Vec<u8>)>),
    Get(usize),
    Has(usize),
    Del(usize),
    Len,
    Keys,
    GetAll,
    Reopen,
    Destroy,
}

const KEYS: [&str; 6] = ["", "userId", "tenant", "claims", "ключ", "room:42"];

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    let raw = prop::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        4 => (key.clone(), raw.clone()).prop_map(|(k, v)| Op::Set(k, v)),
        1 => prop::collection::vec((key.clone(), raw), 0..4).prop_map(Op::SetMany),
        3 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(Op::Has),
        2 => key.prop_map(Op::Del),
        1 => Just(Op::Len),
        1 => Just(Op::Keys),
        1 => Just(Op::GetAll),
        1 => Just(Op::Reopen),
        1 => Just(Op::Destroy),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn memory_store_agrees_with_a_hashmap(ops in prop::collection::vec(op(), 1..60)) {
        let factory = StoreFactory::open("memory://").unwrap();
        let mut store = factory.create_store("model").unwrap();
        let mut model: HashMap<&str, Vec<u8>> = HashMap::new();
        for op in ops {
            match op {
                Op::Set(k, v) => {
                    store.set_bytes(KEYS[k], &v).unwrap();
                    model.insert(KEYS[k], v);
                }
                Op::SetMany(entries) => {
                    let docs: Vec<(&str, Vec<u8>)> =
                        entries.iter().map(|(k, v)| (KEYS[*k], value::encode_bin(v))).collect();
                    let pairs: Vec<(&str, &[u8])> = docs.iter().map(|(k, d)| (*k, d.as_slice())).collect();
                    store.set_many(&pairs).unwrap();
                    for (k, v) in entries {
                        model.insert(KEYS[k], v);
                    }
                }
                Op::Get(k) => prop_assert_eq!(store.get_bytes(KEYS[k]).unwrap(), model.get(KEYS[k]).cloned()),
                Op::Has(k) => prop_assert_eq!(store.has(KEYS[k]).unwrap(), model.contains_key(KEYS[k])),
                Op::Del(k) => prop_assert_eq!(store.del(KEYS[k]).unwrap(), model.remove(KEYS[k]).is_some()),
                Op::Len => prop_assert_eq!(store.len().unwrap(), model.len()),
                Op::Keys => {
                    let mut keys = store.keys().unwrap();
                    keys.sort();
                    let mut expected: Vec<String> = model.keys().map(|k| k.to_string()).collect();
                    expected.sort();
                    prop_assert_eq!(keys, expected);
                }
                Op::GetAll => {
                    let mut all = store.get_all().unwrap();
                    all.sort();
                    let mut expected: Vec<(String, Vec<u8>)> =
                        model.iter().map(|(k, v)| (k.to_string(), value::encode_bin(v))).collect();
                    expected.sort();
                    prop_assert_eq!(all, expected);
                }
                Op::Reopen => store = factory.create_store("model").unwrap(),
                Op::Destroy => {
                    store.destroy().unwrap();
                    prop_assert_eq!(store.len().unwrap_err().kind(), ErrorKind::Destroyed);
                    store = factory.create_store("model").unwrap();
                    model.clear();
                }
            }
        }
    }
}
