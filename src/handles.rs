//! Opaque 64-bit handles for hosts that cannot hold Rust values (C, JNI).
//!
//! A handle names a slot of a [`HandleRegistry`] plus the slot's generation and the registry's
//! kind tag, so a stale (released), forged or wrong-kind handle is detected instead of touching
//! freed memory. A handle that was issued and removed since (*gone*) answers the registry's
//! gone error, which may differ from that of a handle never issued: a closed factory answers
//! `Closed` while holding nothing, since its slot only remembers a generation. A call runs on the value under the slot's own read lock: no reference count
//! changes and no lock shared with other handles, so calls on different handles never contend.
//! Slots are padded to a cache line for the same reason.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};

use crate::error::{Error, ErrorKind, Result};

const CHUNK_BITS: u32 = 12;
const CHUNK_SLOTS: usize = 1 << CHUNK_BITS;
const MAX_CHUNKS: usize = 1 << (INDEX_BITS - CHUNK_BITS);
// A handle is `tag (8 bits) | generation (30) | slot index (26)`. A slot's generation grows at
// every reuse, so a released handle stays dead for 2^30 reuses of its slot.
const GEN_BITS: u32 = 30;
const INDEX_BITS: u32 = 26;

/// A registry of values of one kind, addressed by opaque non-zero `u64` handles.
pub struct HandleRegistry<T> {
    kind: &'static str,
    tag: u64,
    /// What a gone handle answers: `InvalidHandle` unless [`gone_as`](Self::gone_as) said.
    gone: Option<(ErrorKind, &'static str)>,
    chunks: Box<[OnceLock<Chunk<T>>]>,
    free: Mutex<Vec<u32>>,
    next: AtomicU32,
}

/// A block of slots, allocated on first use and never moved, so a slot's address is stable.
type Chunk<T> = Box<[Slot<T>]>;

#[repr(align(64))]
struct Slot<T> {
    state: RwLock<SlotState<T>>,
}

struct SlotState<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> HandleRegistry<T> {
    /// An empty registry. `tag` (1–255) distinguishes the kinds of handle of one host;
    /// `kind` names them in error messages.
    pub fn new(kind: &'static str, tag: u8) -> Self {
        assert_ne!(tag, 0, "a zero tag could make a zero handle");
        HandleRegistry {
            kind,
            tag: u64::from(tag) << (GEN_BITS + INDEX_BITS),
            gone: None,
            chunks: (0..MAX_CHUNKS).map(|_| OnceLock::new()).collect(),
            free: Mutex::new(Vec::new()),
            next: AtomicU32::new(0),
        }
    }

    /// Makes a gone handle (issued, then removed) answer `kind` with `message` instead of
    /// `InvalidHandle`. Once its slot is reused, a gone handle still answers so.
    pub fn gone_as(mut self, kind: ErrorKind, message: &'static str) -> Self {
        self.gone = Some((kind, message));
        self
    }

    /// Registers `value`, returning its new handle (never 0).
    pub fn insert(&self, value: T) -> Result<u64> {
        let index = self.take_index()?;
        let slot = self.slot(index).ok_or_else(|| self.full())?;
        let mut state = slot.state.write().unwrap_or_else(|p| p.into_inner());
        state.generation = (state.generation + 1) & ((1 << GEN_BITS) - 1);
        // (the tag keeps the handle non-zero even when the generation wraps to 0)
        state.value = Some(value);
        Ok(self.tag | (u64::from(state.generation) << INDEX_BITS) | u64::from(index))
    }

    /// Runs `f` on the value of `handle` while the handle cannot be removed.
    pub fn with<R>(&self, handle: u64, f: impl FnOnce(&T) -> R) -> Result<R> {
        let (index, generation) = self.decode(handle)?;
        let slot = self
            .slot_if_allocated(index)
            .ok_or_else(|| self.invalid(handle))?;
        let state = slot.state.read().unwrap_or_else(|p| p.into_inner());
        match &state.value {
            Some(value) if state.generation == generation => Ok(f(value)),
            _ => Err(self.stale(handle, generation, state.generation)),
        }
    }

    /// Unregisters `handle`, returning its value; waits for calls running on it to finish.
    pub fn remove(&self, handle: u64) -> Result<T> {
        let (index, generation) = self.decode(handle)?;
        let slot = self
            .slot_if_allocated(index)
            .ok_or_else(|| self.invalid(handle))?;
        let value = {
            let mut state = slot.state.write().unwrap_or_else(|p| p.into_inner());
            if state.generation != generation {
                return Err(self.stale(handle, generation, state.generation));
            }
            let current = state.generation;
            state
                .value
                .take()
                .ok_or_else(|| self.stale(handle, generation, current))?
        };
        self.free
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(index);
        Ok(value)
    }

    fn decode(&self, handle: u64) -> Result<(u32, u32)> {
        if handle & !((1 << (GEN_BITS + INDEX_BITS)) - 1) != self.tag {
            return Err(self.invalid(handle));
        }
        let index = (handle & ((1 << INDEX_BITS) - 1)) as u32;
        let generation = ((handle >> INDEX_BITS) & ((1 << GEN_BITS) - 1)) as u32;
        Ok((index, generation))
    }

    fn take_index(&self) -> Result<u32> {
        if let Some(index) = self.free.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(index);
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        if index as usize >= MAX_CHUNKS * CHUNK_SLOTS {
            self.next.store(index, Ordering::Relaxed);
            return Err(self.full());
        }
        Ok(index)
    }

    fn slot(&self, index: u32) -> Option<&Slot<T>> {
        let chunk = self
            .chunks
            .get(index as usize >> CHUNK_BITS)?
            .get_or_init(|| {
                (0..CHUNK_SLOTS)
                    .map(|_| Slot {
                        state: RwLock::new(SlotState {
                            generation: 0,
                            value: None,
                        }),
                    })
                    .collect()
            });
        chunk.get(index as usize & (CHUNK_SLOTS - 1))
    }

    fn slot_if_allocated(&self, index: u32) -> Option<&Slot<T>> {
        let chunk = self.chunks.get(index as usize >> CHUNK_BITS)?.get()?;
        chunk.get(index as usize & (CHUNK_SLOTS - 1))
    }

    /// The error of a handle whose slot holds no value of its generation: gone when that
    /// generation was issued (it is not newer than the slot's), invalid otherwise.
    fn stale(&self, handle: u64, generation: u32, current: u32) -> Error {
        match self.gone {
            Some((kind, message)) if generation != 0 && generation <= current => {
                Error::new(kind, message)
            }
            _ => self.invalid(handle),
        }
    }

    fn invalid(&self, handle: u64) -> Error {
        Error::new(
            ErrorKind::InvalidHandle,
            format!(
                "0x{handle:x} is not an open {} handle (never issued, released, or of another kind)",
                self.kind
            ),
        )
    }

    fn full(&self) -> Error {
        Error::new(
            ErrorKind::Internal,
            format!("too many open {} handles", self.kind),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_use_remove() {
        let reg = HandleRegistry::new("thing", 7);
        let a = reg.insert("a".to_owned()).unwrap();
        let b = reg.insert("b".to_owned()).unwrap();
        assert_ne!(a, 0);
        assert_ne!(a, b);
        assert_eq!(reg.with(a, |v| v.clone()).unwrap(), "a");
        assert_eq!(reg.remove(a).unwrap(), "a");
        for stale in [
            a,
            0,
            b ^ 1,
            b + (1 << 40),
            b & !(0xff << 56) | (8 << 56),
            u64::MAX,
        ] {
            assert_eq!(
                reg.with(stale, |_| ()).unwrap_err().kind(),
                ErrorKind::InvalidHandle
            );
            assert_eq!(
                reg.remove(stale).unwrap_err().kind(),
                ErrorKind::InvalidHandle
            );
        }
        // The slot is reused under a new generation: the old handle stays dead.
        let c = reg.insert("c".to_owned()).unwrap();
        assert_eq!(c & ((1 << INDEX_BITS) - 1), a & ((1 << INDEX_BITS) - 1));
        assert_ne!(c, a);
        assert!(reg.with(a, |_| ()).is_err());
        assert_eq!(reg.with(c, |v| v.clone()).unwrap(), "c");
    }

    #[test]
    fn gone_handles_answer_the_gone_error_and_forged_ones_stay_invalid() {
        let reg = HandleRegistry::new("factory", 9).gone_as(ErrorKind::Closed, "closed");
        let a = reg.insert(1).unwrap();
        reg.remove(a).unwrap();
        let kind = |h| reg.with(h, |_| ()).unwrap_err().kind();
        assert_eq!(kind(a), ErrorKind::Closed);
        assert_eq!(reg.remove(a).unwrap_err().kind(), ErrorKind::Closed);
        // The slot is reused: the old handle is still gone, the new one works.
        let b = reg.insert(2).unwrap();
        assert_eq!(kind(a), ErrorKind::Closed);
        assert_eq!(reg.with(b, |v| *v).unwrap(), 2);
        // Never issued: a newer generation of the slot, another slot, another tag.
        for forged in [b + (1 << INDEX_BITS), b + 1, b ^ (1 << 60), 0] {
            assert_eq!(kind(forged), ErrorKind::InvalidHandle, "{forged:x}");
        }
    }

    #[test]
    fn kinds_do_not_mix() {
        let stores = HandleRegistry::new("store", 1);
        let factories = HandleRegistry::new("factory", 2);
        let s = stores.insert(1).unwrap();
        let f = factories.insert(2).unwrap();
        assert!(factories.with(s, |_| ()).is_err());
        assert!(stores.with(f, |_| ()).is_err());
    }

    #[test]
    fn concurrent_use_and_removal() {
        let reg = std::sync::Arc::new(HandleRegistry::new("n", 3));
        let handles: Vec<u64> = (0..64).map(|i| reg.insert(i).unwrap()).collect();
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let reg = reg.clone();
                let handles = handles.clone();
                std::thread::spawn(move || {
                    for (i, h) in handles.iter().enumerate() {
                        if i % 4 == t {
                            reg.remove(*h).unwrap();
                        } else {
                            let _ = reg.with(*h, |v| *v);
                        }
                        let fresh = reg.insert(1000 + i).unwrap();
                        assert_eq!(reg.with(fresh, |v| *v).unwrap(), 1000 + i);
                        reg.remove(fresh).unwrap();
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        for h in handles {
            assert!(reg.with(h, |_| ()).is_err());
        }
    }
}
