//! The C ABI (docs/API.md §4) driven by random operation sequences on `memory://`, each call
//! checked against a model: a map of factories, each a map of sessions, each a map of keys.
//!
//! Every call's status must be one the model allows. When no error applies it must be the
//! success the model predicts, with the values it predicts (round-tripped byte for byte); when
//! errors apply it must be one of them (docs/API.md does not order them), the model does not
//! change, and every out-parameter is zero. Handles are picked among those issued (live,
//! released, closed, of the other kind), with a flipped bit, or forged. Every `ss_bytes` the
//! library hands out is freed exactly once (then once more: a no-op), and the thread's last
//! error follows the `errno` rule: set by every failure, left alone by every success.
//!
//! Each run starts from nothing and ends by releasing and closing all it opened, so runs are
//! independent: only the registries' handle generations carry over, and a forged handle that
//! bears the factory tag may look like one closed before (`SS_ERR_CLOSED`), which the model
//! allows for any handle it did not issue.

use std::collections::HashMap;
use std::ffi::{c_char, CStr};

use arbitrary::{Arbitrary, Unstructured};
use sessionstore::ffi::*;

use crate::gen::{self, Doc, ManyDoc};
use crate::oracle;

/// Most operations one run performs.
const MAX_OPS: usize = 64;

/// The factory registry's tag (the top byte of its handles): a forged handle with it may look
/// like one closed since (`SS_ERR_CLOSED`) rather than never issued.
const FACTORY_TAG: u64 = 0x5F;

/// The urls a run opens factories on, with the `max_value_bytes` each gives (`None`: refused).
/// No url ever names a remote backend: a run must stay in this process.
const URLS: &[(&[u8], Option<usize>)] = &[
    (b"memory://", Some(1 << 20)),
    (b"", Some(1 << 20)),
    (b"memory://?max_value_bytes=16", Some(16)),
    (b"MEMORY://?max_value_bytes=64&prefix=p", Some(64)),
    (b"memory://?max_value_bytes=1024&timeout_ms=5", Some(1024)),
    (b"memory://x", None),
    (b"memory://?max_value_bytes=15", None),
    (b"memory://?ttl_ms=5", None),
    (b"memory://?nope=1", None),
    (b"nope://", None),
    (b"memory://?prefix=a&prefix=b", None),
    (b"\xff", None),
];

const SIDS: &[&[u8]] = &[
    b"s1",
    b"s2",
    b"6f1c9a2e-0b1d-4c5e-9f00-123456789abc",
    b"Ab0._~:-",
    &[b'x'; 128],
    &[b'x'; 129],
    b"",
    b"a b",
    "é".as_bytes(),
    b"a\0",
];

const KEYS: &[&[u8]] = &[
    b"",
    b"k",
    b"userId",
    "ключ".as_bytes(),
    b"a\0b",
    b"room:42",
    &[b'x'; 1024],
    &[b'x'; 1025],
    b"\xff\xfe",
    b"\xe2\x82",
];

/// A handle as a run picks it: mostly one the run was issued.
#[derive(Debug, Clone, Copy)]
enum HandleRef {
    /// One issued in this run (live, released or closed), of the kind the call takes.
    Issued(u8),
    /// One issued in this run, of the other kind.
    OtherKind(u8),
    /// One issued in this run with one bit flipped.
    Flipped(u8, u8),
    /// Any number.
    Forged(u64),
    /// 0, never valid.
    Zero,
}

impl<'a> Arbitrary<'a> for HandleRef {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=199 => HandleRef::Issued(u.arbitrary()?),
            200..=219 => HandleRef::OtherKind(u.arbitrary()?),
            220..=239 => HandleRef::Flipped(u.arbitrary()?, u.arbitrary()?),
            240..=254 => HandleRef::Forged(u.arbitrary()?),
            255 => HandleRef::Zero,
        })
    }
}

/// A session id or key: mostly from the table, else any bytes, or a NULL pointer with a
/// length.
#[derive(Debug, Clone)]
enum Name {
    Table(u8),
    Raw(Vec<u8>),
    Null(u8),
}

impl<'a> Arbitrary<'a> for Name {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=219 => Name::Table(u.arbitrary()?),
            220..=249 => Name::Raw(u.arbitrary()?),
            250..=255 => Name::Null(u.arbitrary()?),
        })
    }
}

/// An out-parameter: passed as NULL one time in sixteen.
#[derive(Debug, Clone, Copy)]
struct NullOut(bool);

impl<'a> Arbitrary<'a> for NullOut {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(NullOut(u8::arbitrary(u)? < 16))
    }
}

/// Raw bytes for `ss_store_set`.
#[derive(Arbitrary, Debug, Clone)]
enum Raw {
    Bytes(Vec<u8>),
    /// `n` bytes: sizes around every factory's `max_value_bytes`.
    Sized(u16),
    Null(u8),
}

#[derive(Arbitrary, Debug, Clone)]
enum Op {
    OpenFactory {
        url: u8,
        null_url: NullOut,
        null_out: NullOut,
    },
    CloseFactory(HandleRef),
    DestroySession(HandleRef, Name),
    OpenStore(HandleRef, Name, NullOut),
    Release(HandleRef),
    Destroy(HandleRef),
    Set(HandleRef, Name, Raw),
    Get(HandleRef, Name, NullOut),
    SetMsgpack(HandleRef, Name, Doc),
    GetMsgpack(HandleRef, Name, NullOut),
    Has(HandleRef, Name, NullOut),
    /// `existed` passed as NULL, or not.
    Del(HandleRef, Name, bool),
    Len(HandleRef, NullOut),
    Keys(HandleRef, NullOut),
    GetAll(HandleRef, NullOut),
    SetMany(HandleRef, ManyDoc),
    StatusName(i32),
    FreeNull,
}

/// One factory of the model.
struct FactoryModel {
    handle: u64,
    closed: bool,
    max_value_bytes: usize,
    /// Session id -> its live cell.
    sessions: HashMap<Vec<u8>, usize>,
}

/// One store handle of the model.
struct StoreModel {
    handle: u64,
    factory: usize,
    cell: usize,
    released: bool,
}

#[derive(Default)]
struct Model {
    factories: Vec<FactoryModel>,
    stores: Vec<StoreModel>,
    /// Every session's data, by cell; `None` once destroyed.
    cells: Vec<Option<HashMap<String, Vec<u8>>>>,
}

/// What a handle names, as far as the model knows.
enum Factory {
    Live(usize),
    Closed,
    /// Never issued, as far as the model knows; may look closed if it bears the factory tag.
    Unknown(u64),
}

enum StoreRef {
    Live(usize),
    Released,
    Unknown,
}

/// The statuses a call may answer: the errors that apply, else the one success.
struct Expect {
    errors: Vec<ss_status>,
}

impl Expect {
    fn new() -> Self {
        Expect { errors: Vec::new() }
    }

    fn err(&mut self, status: ss_status) {
        self.errors.push(status);
    }

    fn err_if(&mut self, cond: bool, status: ss_status) {
        if cond {
            self.err(status);
        }
    }

    fn fails(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Checks `got` against the errors; true when the call was expected to succeed.
    fn check(&self, op: &Op, got: ss_status) -> bool {
        if self.fails() {
            assert!(
                self.errors.contains(&got),
                "{op:?}: got {got:?}, expected one of {:?}",
                self.errors
            );
            false
        } else {
            assert!(
                got as i32 >= 0,
                "{op:?}: got {got:?} where no error applies: {}",
                last_error()
            );
            true
        }
    }
}

fn last_error() -> String {
    // SAFETY: ss_last_error returns a NUL-terminated string the library owns, valid until the
    // next failing call on this thread; it is copied at once.
    unsafe { CStr::from_ptr(ss_last_error()) }
        .to_str()
        .expect("the last error is UTF-8")
        .to_owned()
}

fn status_name(status: i32) -> String {
    // SAFETY: ss_status_name returns a static NUL-terminated string for any int.
    unsafe { CStr::from_ptr(ss_status_name(status)) }
        .to_str()
        .expect("a status name is UTF-8")
        .to_owned()
}

/// The bytes an `ss_bytes` holds, then frees it (twice: the second is a no-op).
fn take(mut bytes: ss_bytes) -> Vec<u8> {
    assert!(!bytes.data.is_null(), "a returned ss_bytes is never NULL");
    // SAFETY: the library returned `bytes` from a successful call: `data` points to `len`
    // bytes it allocated, not yet freed.
    let copy = unsafe { std::slice::from_raw_parts(bytes.data, bytes.len) }.to_vec();
    ss_bytes_free(&mut bytes);
    assert!(
        bytes.data.is_null() && bytes.len == 0,
        "ss_bytes_free zeroes"
    );
    ss_bytes_free(&mut bytes);
    copy
}

/// Garbage an out-parameter holds before a call, to see that the call zeroes it.
const GARBAGE_BYTES: ss_bytes = ss_bytes {
    data: std::ptr::dangling_mut::<u8>(),
    len: 12345,
};

fn assert_zeroed(op: &Op, bytes: &ss_bytes) {
    assert!(
        bytes.data.is_null() && bytes.len == 0,
        "{op:?}: out-parameter not zeroed: {bytes:?}"
    );
}

/// A borrowed buffer or NULL, and its length.
struct Arg {
    bytes: Vec<u8>,
    null: bool,
    len: usize,
}

impl Arg {
    fn ptr(&self) -> *const u8 {
        if self.null {
            std::ptr::null()
        } else {
            self.bytes.as_ptr()
        }
    }

    fn cptr(&self) -> *const c_char {
        self.ptr().cast()
    }

    fn name(name: &Name, table: &[&[u8]]) -> Arg {
        match name {
            Name::Table(i) => Arg::from(table[*i as usize % table.len()].to_vec()),
            Name::Raw(bytes) => Arg::from(bytes.clone()),
            Name::Null(len) => Arg {
                bytes: Vec::new(),
                null: true,
                len: usize::from(*len),
            },
        }
    }
}

impl From<Vec<u8>> for Arg {
    fn from(bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        Arg {
            bytes,
            null: false,
            len,
        }
    }
}

fn valid_sid(sid: &[u8]) -> bool {
    (1..=128).contains(&sid.len())
        && sid
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"._~:-".contains(&b))
}

fn valid_key(key: &[u8]) -> Option<String> {
    (key.len() <= oracle::MAX_KEY_LEN)
        .then(|| String::from_utf8(key.to_vec()).ok())
        .flatten()
}

/// The errors of a key argument; its text when valid.
fn key_errors(e: &mut Expect, key: &Arg) -> Option<String> {
    if key.null {
        e.err(ss_status::SS_ERR_NULL_ARG);
        return None;
    }
    let text = valid_key(&key.bytes);
    e.err_if(text.is_none(), ss_status::SS_ERR_INVALID_ARG);
    text
}

/// `ss_bytes` of MessagePack `bin` holding `raw`, as rmpv writes it.
fn bin_doc(raw: &[u8]) -> Vec<u8> {
    oracle::encode(&rmpv::Value::Binary(raw.to_vec()))
}

impl Model {
    fn factory_handle(&self, r: HandleRef) -> u64 {
        pick(
            r,
            &self.factories.iter().map(|f| f.handle).collect::<Vec<_>>(),
            &self.stores.iter().map(|s| s.handle).collect::<Vec<_>>(),
        )
    }

    fn store_handle(&self, r: HandleRef) -> u64 {
        pick(
            r,
            &self.stores.iter().map(|s| s.handle).collect::<Vec<_>>(),
            &self.factories.iter().map(|f| f.handle).collect::<Vec<_>>(),
        )
    }

    fn factory(&self, h: u64) -> Factory {
        match self.factories.iter().position(|f| f.handle == h) {
            Some(i) if self.factories[i].closed => Factory::Closed,
            Some(i) => Factory::Live(i),
            None => Factory::Unknown(h),
        }
    }

    fn store(&self, h: u64) -> StoreRef {
        match self.stores.iter().position(|s| s.handle == h) {
            Some(i) if self.stores[i].released => StoreRef::Released,
            Some(i) => StoreRef::Live(i),
            None => StoreRef::Unknown,
        }
    }

    /// The errors of a factory handle for a call on it; its index when live.
    fn factory_errors(&self, e: &mut Expect, h: u64) -> Option<usize> {
        match self.factory(h) {
            Factory::Live(i) => return Some(i),
            Factory::Closed => e.err(ss_status::SS_ERR_CLOSED),
            Factory::Unknown(h) => {
                e.err(ss_status::SS_ERR_INVALID_HANDLE);
                e.err_if(h >> 56 == FACTORY_TAG, ss_status::SS_ERR_CLOSED);
            }
        }
        None
    }

    /// The errors of a store handle (released, forged, closed factory, destroyed session);
    /// its index when it reaches live data.
    fn store_errors(&self, e: &mut Expect, h: u64) -> Option<usize> {
        match self.store(h) {
            StoreRef::Live(i) => {
                let s = &self.stores[i];
                if self.factories[s.factory].closed {
                    e.err(ss_status::SS_ERR_CLOSED);
                } else if self.cells[s.cell].is_none() {
                    e.err(ss_status::SS_ERR_DESTROYED);
                } else {
                    return Some(i);
                }
            }
            StoreRef::Released | StoreRef::Unknown => e.err(ss_status::SS_ERR_INVALID_HANDLE),
        }
        None
    }

    fn max_of(&self, h: u64) -> Option<usize> {
        match self.store(h) {
            StoreRef::Live(i) => Some(self.factories[self.stores[i].factory].max_value_bytes),
            _ => None,
        }
    }

    fn data(&mut self, store: usize) -> &mut HashMap<String, Vec<u8>> {
        let cell = self.stores[store].cell;
        self.cells[cell].as_mut().expect("a live cell")
    }

    fn kill(&mut self, cell: usize) {
        self.cells[cell] = None;
    }
}

/// The handle `r` names, among `own` (of the kind the call takes) and `other`.
fn pick(r: HandleRef, own: &[u64], other: &[u64]) -> u64 {
    let nth = |list: &[u64], i: u8| {
        if list.is_empty() {
            0
        } else {
            list[i as usize % list.len()]
        }
    };
    match r {
        HandleRef::Issued(i) => nth(own, i),
        HandleRef::OtherKind(i) => nth(other, i),
        HandleRef::Flipped(i, bit) => nth(own, i) ^ (1 << (bit % 64)),
        HandleRef::Forged(h) => h,
        HandleRef::Zero => 0,
    }
}

/// Runs one operation sequence decoded from `data`.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut model = Model::default();
    let mut ops = 0;
    while !u.is_empty() && ops < MAX_OPS {
        let Ok(op) = Op::arbitrary(&mut u) else { break };
        step(&mut model, &op);
        ops += 1;
    }
    // Leave nothing behind for the next run.
    for s in model.stores.iter().filter(|s| !s.released) {
        assert_eq!(ss_store_release(s.handle), ss_status::SS_OK);
    }
    for f in &model.factories {
        assert_eq!(ss_factory_close(f.handle), ss_status::SS_OK);
    }
}

fn step(model: &mut Model, op: &Op) {
    let before = last_error();
    let got = call(model, op);
    if std::env::var_os("SS_FUZZ_TRACE").is_some() {
        eprintln!("{got:?} <- {op:?}");
    }
    if (got as i32) < 0 {
        let message = last_error();
        assert!(!message.is_empty(), "{op:?}: {got:?} without a message");
        assert_eq!(status_name(got as i32), format!("{got:?}"));
    } else {
        assert_eq!(
            last_error(),
            before,
            "{op:?}: a success changed the last error"
        );
    }
}

fn call(model: &mut Model, op: &Op) -> ss_status {
    match op {
        Op::OpenFactory {
            url,
            null_url,
            null_out,
        } => {
            let (url, max) = URLS[*url as usize % URLS.len()];
            let (null_url, null_out) = (&null_url.0, &null_out.0);
            let mut e = Expect::new();
            e.err_if(*null_url || *null_out, ss_status::SS_ERR_NULL_ARG);
            e.err_if(max.is_none(), ss_status::SS_ERR_CONFIG);
            let mut out: ss_factory = 0xdead;
            let url_ptr = if *null_url {
                std::ptr::null()
            } else {
                url.as_ptr().cast()
            };
            let out_ptr = if *null_out {
                std::ptr::null_mut()
            } else {
                &mut out
            };
            let got = ss_factory_open(url_ptr, url.len(), out_ptr);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                assert!(out != 0 && out >> 56 == FACTORY_TAG, "{out:x}");
                assert!(
                    model.factories.iter().all(|f| f.handle != out),
                    "a new handle is new"
                );
                model.factories.push(FactoryModel {
                    handle: out,
                    closed: false,
                    max_value_bytes: max.unwrap_or_default(),
                    sessions: HashMap::new(),
                });
            } else if !*null_out {
                assert_eq!(out, 0, "{op:?}: out not zeroed");
            }
            got
        }
        Op::CloseFactory(r) => {
            let h = model.factory_handle(*r);
            let got = ss_factory_close(h);
            match model.factory(h) {
                Factory::Live(i) => {
                    assert_eq!(got, ss_status::SS_OK, "{op:?}");
                    let f = &mut model.factories[i];
                    f.closed = true;
                    let cells: Vec<usize> = f.sessions.drain().map(|(_, c)| c).collect();
                    for c in cells {
                        model.kill(c);
                    }
                }
                Factory::Closed => assert_eq!(got, ss_status::SS_OK, "{op:?}"),
                Factory::Unknown(h) => {
                    let forged_closed = h >> 56 == FACTORY_TAG && got == ss_status::SS_OK;
                    assert!(
                        got == ss_status::SS_ERR_INVALID_HANDLE || forged_closed,
                        "{op:?} {h:x}: {got:?}"
                    );
                }
            }
            got
        }
        Op::DestroySession(r, sid) => {
            let h = model.factory_handle(*r);
            let sid = Arg::name(sid, SIDS);
            let mut e = Expect::new();
            e.err_if(sid.null, ss_status::SS_ERR_NULL_ARG);
            let f = model.factory_errors(&mut e, h);
            e.err_if(
                !sid.null && !valid_sid(&sid.bytes),
                ss_status::SS_ERR_INVALID_ARG,
            );
            let got = ss_factory_destroy_session(h, sid.cptr(), sid.len);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                let f = f.expect("live");
                if let Some(cell) = model.factories[f].sessions.remove(&sid.bytes) {
                    model.kill(cell);
                }
            }
            got
        }
        Op::OpenStore(r, sid, null_out) => {
            let null_out = &null_out.0;
            let h = model.factory_handle(*r);
            let sid = Arg::name(sid, SIDS);
            let mut e = Expect::new();
            e.err_if(sid.null || *null_out, ss_status::SS_ERR_NULL_ARG);
            let f = model.factory_errors(&mut e, h);
            e.err_if(
                !sid.null && !valid_sid(&sid.bytes),
                ss_status::SS_ERR_INVALID_ARG,
            );
            let mut out: ss_store = 0xdead;
            let out_ptr = if *null_out {
                std::ptr::null_mut()
            } else {
                &mut out
            };
            let got = ss_store_open(h, sid.cptr(), sid.len, out_ptr);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                let f = f.expect("live");
                assert!(out != 0 && out >> 56 != FACTORY_TAG, "{out:x}");
                assert!(model.stores.iter().all(|s| s.handle != out));
                let cell = match model.factories[f].sessions.get(&sid.bytes) {
                    Some(&cell) => cell,
                    None => {
                        model.cells.push(Some(HashMap::new()));
                        let cell = model.cells.len() - 1;
                        model.factories[f].sessions.insert(sid.bytes.clone(), cell);
                        cell
                    }
                };
                model.stores.push(StoreModel {
                    handle: out,
                    factory: f,
                    cell,
                    released: false,
                });
            } else if !*null_out {
                assert_eq!(out, 0, "{op:?}: out not zeroed");
            }
            got
        }
        Op::Release(r) => {
            let h = model.store_handle(*r);
            let got = ss_store_release(h);
            match model.store(h) {
                StoreRef::Live(i) => {
                    assert_eq!(got, ss_status::SS_OK, "{op:?}");
                    model.stores[i].released = true;
                }
                _ => assert_eq!(got, ss_status::SS_ERR_INVALID_HANDLE, "{op:?}"),
            }
            got
        }
        Op::Destroy(r) => {
            let h = model.store_handle(*r);
            let mut e = Expect::new();
            // Destroying a destroyed session succeeds: only the handle and the factory count.
            let live = match model.store(h) {
                StoreRef::Live(i) if model.factories[model.stores[i].factory].closed => {
                    e.err(ss_status::SS_ERR_CLOSED);
                    None
                }
                StoreRef::Live(i) => Some(i),
                _ => {
                    e.err(ss_status::SS_ERR_INVALID_HANDLE);
                    None
                }
            };
            let got = ss_store_destroy(h);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                let s = &model.stores[live.expect("live")];
                let (cell, f) = (s.cell, s.factory);
                let sessions = &mut model.factories[f].sessions;
                sessions.retain(|_, c| *c != cell);
                model.kill(cell);
            }
            got
        }
        Op::Set(r, key, raw) => {
            let h = model.store_handle(*r);
            let key = Arg::name(key, KEYS);
            let raw = match raw {
                Raw::Bytes(b) => Arg::from(b.clone()),
                Raw::Sized(n) => Arg::from(vec![0xa5; usize::from(*n) % 1100]),
                Raw::Null(len) => Arg {
                    bytes: Vec::new(),
                    null: true,
                    len: usize::from(*len),
                },
            };
            let mut e = Expect::new();
            let text = key_errors(&mut e, &key);
            e.err_if(raw.null, ss_status::SS_ERR_NULL_ARG);
            let doc = bin_doc(&raw.bytes);
            if let Some(max) = model.max_of(h) {
                e.err_if(!raw.null && doc.len() > max, ss_status::SS_ERR_TOO_LARGE);
            }
            let s = model.store_errors(&mut e, h);
            let got = ss_store_set(h, key.cptr(), key.len, raw.ptr(), raw.len);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                model
                    .data(s.expect("live"))
                    .insert(text.expect("valid"), doc);
            }
            got
        }
        Op::SetMsgpack(r, key, doc) => {
            let h = model.store_handle(*r);
            let key = Arg::name(key, KEYS);
            let doc = match doc {
                Doc::Null(len) => Arg {
                    bytes: Vec::new(),
                    null: true,
                    len: usize::from(*len),
                },
                doc => Arg::from(gen::doc(doc)),
            };
            let mut e = Expect::new();
            let text = key_errors(&mut e, &key);
            e.err_if(doc.null, ss_status::SS_ERR_NULL_ARG);
            if !doc.null {
                e.err_if(
                    oracle::portable(&doc.bytes).is_none(),
                    ss_status::SS_ERR_INVALID_ARG,
                );
                if let Some(max) = model.max_of(h) {
                    e.err_if(doc.bytes.len() > max, ss_status::SS_ERR_TOO_LARGE);
                }
            }
            let s = model.store_errors(&mut e, h);
            let got = ss_store_set_msgpack(h, key.cptr(), key.len, doc.ptr(), doc.len);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                model
                    .data(s.expect("live"))
                    .insert(text.expect("valid"), doc.bytes.clone());
            }
            got
        }
        Op::Get(r, key, null_out) | Op::GetMsgpack(r, key, null_out) => {
            let null_out = &null_out.0;
            let raw = matches!(op, Op::Get(..));
            let h = model.store_handle(*r);
            let key = Arg::name(key, KEYS);
            let mut e = Expect::new();
            e.err_if(*null_out, ss_status::SS_ERR_NULL_ARG);
            let text = key_errors(&mut e, &key);
            let s = model.store_errors(&mut e, h);
            let stored = match (s, &text) {
                (Some(s), Some(k)) => model.data(s).get(k).cloned(),
                _ => None,
            };
            // A raw read of a value that is not bin is a type error.
            let expected = stored.as_ref().map(|doc| match oracle::read(doc) {
                Some((rmpv::Value::Binary(b), _)) if raw => Some(b),
                _ if raw => None,
                _ => Some(doc.clone()),
            });
            if !e.fails() {
                e.err_if(matches!(expected, Some(None)), ss_status::SS_ERR_TYPE);
            }
            let mut out = GARBAGE_BYTES;
            let out_ptr = if *null_out {
                std::ptr::null_mut()
            } else {
                &mut out
            };
            let got = if raw {
                ss_store_get(h, key.cptr(), key.len, out_ptr)
            } else {
                ss_store_get_msgpack(h, key.cptr(), key.len, out_ptr)
            };
            if e.check(op, got) {
                match expected {
                    Some(Some(value)) => {
                        assert_eq!(got, ss_status::SS_OK, "{op:?}");
                        assert_eq!(take(out), value, "{op:?}: the value round-trips");
                    }
                    _ => {
                        assert_eq!(got, ss_status::SS_NOT_FOUND, "{op:?}");
                        assert_zeroed(op, &out);
                    }
                }
            } else if !*null_out {
                assert_zeroed(op, &out);
            }
            got
        }
        Op::Has(r, key, null_out) => {
            let null_out = &null_out.0;
            let h = model.store_handle(*r);
            let key = Arg::name(key, KEYS);
            let mut e = Expect::new();
            e.err_if(*null_out, ss_status::SS_ERR_NULL_ARG);
            let text = key_errors(&mut e, &key);
            let s = model.store_errors(&mut e, h);
            let mut out = true;
            let out_ptr = if *null_out {
                std::ptr::null_mut()
            } else {
                &mut out
            };
            let got = ss_store_has(h, key.cptr(), key.len, out_ptr);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                let k = text.expect("valid");
                assert_eq!(out, model.data(s.expect("live")).contains_key(&k), "{op:?}");
            } else if !*null_out {
                assert!(!out, "{op:?}: out not zeroed");
            }
            got
        }
        Op::Del(r, key, with_existed) => {
            let h = model.store_handle(*r);
            let key = Arg::name(key, KEYS);
            let mut e = Expect::new();
            let text = key_errors(&mut e, &key);
            let s = model.store_errors(&mut e, h);
            let mut existed = true;
            let existed_ptr = if *with_existed {
                &mut existed
            } else {
                std::ptr::null_mut()
            };
            let got = ss_store_del(h, key.cptr(), key.len, existed_ptr);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                let had = model
                    .data(s.expect("live"))
                    .remove(&text.expect("valid"))
                    .is_some();
                if *with_existed {
                    assert_eq!(existed, had, "{op:?}");
                }
            } else if *with_existed {
                assert!(!existed, "{op:?}: existed not zeroed");
            }
            got
        }
        Op::Len(r, null_out) => {
            let null_out = &null_out.0;
            let h = model.store_handle(*r);
            let mut e = Expect::new();
            e.err_if(*null_out, ss_status::SS_ERR_NULL_ARG);
            let s = model.store_errors(&mut e, h);
            let mut out = 777usize;
            let out_ptr = if *null_out {
                std::ptr::null_mut()
            } else {
                &mut out
            };
            let got = ss_store_len(h, out_ptr);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                assert_eq!(out, model.data(s.expect("live")).len(), "{op:?}");
            } else if !*null_out {
                assert_eq!(out, 0, "{op:?}: out not zeroed");
            }
            got
        }
        Op::Keys(r, null_out) | Op::GetAll(r, null_out) => {
            let null_out = &null_out.0;
            let all = matches!(op, Op::GetAll(..));
            let h = model.store_handle(*r);
            let mut e = Expect::new();
            e.err_if(*null_out, ss_status::SS_ERR_NULL_ARG);
            let s = model.store_errors(&mut e, h);
            let mut out = GARBAGE_BYTES;
            let out_ptr = if *null_out {
                std::ptr::null_mut()
            } else {
                &mut out
            };
            let got = if all {
                ss_store_get_all(h, out_ptr)
            } else {
                ss_store_keys(h, out_ptr)
            };
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                let doc = take(out);
                let data = model.data(s.expect("live"));
                if all {
                    let entries = oracle::portable_map(&doc)
                        .unwrap_or_else(|| panic!("{op:?}: get_all is no valid map: {doc:x?}"));
                    assert_eq!(entries.len(), data.len(), "{op:?}");
                    let got: HashMap<String, Vec<u8>> = entries.into_iter().collect();
                    assert_eq!(&got, data, "{op:?}");
                } else {
                    let keys = oracle::portable(&doc)
                        .unwrap_or_else(|| panic!("{op:?}: keys is no valid array: {doc:x?}"));
                    let rmpv::Value::Array(keys) = keys else {
                        panic!("{op:?}: keys is no array")
                    };
                    let mut keys: Vec<String> = keys
                        .into_iter()
                        .map(|k| k.as_str().expect("a str key").to_owned())
                        .collect();
                    keys.sort();
                    let mut want: Vec<String> = data.keys().cloned().collect();
                    want.sort();
                    assert_eq!(keys, want, "{op:?}");
                }
            } else if !*null_out {
                assert_zeroed(op, &out);
            }
            got
        }
        Op::SetMany(r, many) => {
            let h = model.store_handle(*r);
            let doc = match many {
                ManyDoc::Null(len) => Arg {
                    bytes: Vec::new(),
                    null: true,
                    len: usize::from(*len),
                },
                many => Arg::from(gen::many_doc(many)),
            };
            let mut e = Expect::new();
            e.err_if(doc.null, ss_status::SS_ERR_NULL_ARG);
            let entries = (!doc.null)
                .then(|| oracle::portable_map(&doc.bytes))
                .flatten();
            if !doc.null {
                e.err_if(entries.is_none(), ss_status::SS_ERR_INVALID_ARG);
                if let Some(max) = model.max_of(h) {
                    let oversize = gen::entry_sizes(&doc.bytes).iter().any(|&n| n > max);
                    e.err_if(oversize, ss_status::SS_ERR_TOO_LARGE);
                }
            }
            let s = model.store_errors(&mut e, h);
            let got = ss_store_set_many(h, doc.ptr(), doc.len);
            if e.check(op, got) {
                assert_eq!(got, ss_status::SS_OK);
                let data = model.data(s.expect("live"));
                for (k, v) in entries.expect("valid") {
                    data.insert(k, v);
                }
            }
            got
        }
        Op::StatusName(code) => {
            let name = status_name(*code);
            let known = (-11..=1).contains(code);
            assert_eq!(name == "SS_UNKNOWN", !known, "{code}: {name}");
            ss_status::SS_OK
        }
        Op::FreeNull => {
            ss_bytes_free(std::ptr::null_mut());
            let mut empty = ss_bytes {
                data: std::ptr::null_mut(),
                len: 0,
            };
            ss_bytes_free(&mut empty);
            ss_status::SS_OK
        }
    }
}
