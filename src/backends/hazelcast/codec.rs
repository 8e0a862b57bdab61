//! The encoding layer of Hazelcast's Open Binary Client Protocol 2.x (`docs/hazelcast.md`),
//! with no I/O: requests built frame by frame, whole messages split off a byte stream,
//! response fields read without trusting their lengths, the heap data of a Java `String` and
//! `byte[]`, and the partition of a serialized key.
//!
//! Frames are `i32` LE length (its own 6-byte header included), `u16` LE flags, content. A
//! request's initial frame holds type, correlation id and partition id (16 bytes), then its
//! fixed fields; a response's holds type, correlation id and a backup-acks byte (13 bytes),
//! then its fixed fields. Variable fields follow as frames of their own; the last frame of a
//! message carries [`IS_FINAL`]. Newer members append fields, so every read here checks its
//! bounds and answers `None` rather than panicking.

use std::fmt;

/// Message type of `Client.authentication`.
pub(crate) const AUTHENTICATION: i32 = 0x000100;
/// Message type of `Client.ping`.
pub(crate) const PING: i32 = 0x000B00;
/// Message type of `Map.get`: thread id `i64` @16; frames name, key; response nullable Data.
pub(crate) const MAP_GET: i32 = 0x010200;
/// Message type of `Map.set`: thread id @16, TTL @24; frames name, key, value; no response field.
#[cfg(test)] // the tests' wire vectors
pub(crate) const MAP_SET: i32 = 0x010F00;
/// Message type of `Map.putIfAbsent`: thread id @16, TTL @24; frames name, key, value; response
/// nullable Data (the value already there, null when this one was put).
pub(crate) const MAP_PUT_IF_ABSENT: i32 = 0x010E00;
/// Message type of `Map.replaceIfSame`: thread id @16; frames name, key, expected, new; response
/// bool @13 (replaced).
pub(crate) const MAP_REPLACE_IF_SAME: i32 = 0x010500;
/// Message type of `Map.removeIfSame` (`IMap.remove(key, value)`): thread id @16; frames name,
/// key, value; response bool @13 (removed).
pub(crate) const MAP_REMOVE_IF_SAME: i32 = 0x010800;
/// Message type of `Map.delete`: thread id @16; frames name, key; response (5.7.0) bool @13.
#[cfg(test)] // the tests' wire vectors
pub(crate) const MAP_DELETE: i32 = 0x010900;
/// Message type of `Map.setTtl`: TTL @16 (no thread id); frames name, key; response bool @13.
pub(crate) const MAP_SET_TTL: i32 = 0x014300;
/// Message type of `Map.size`: no fixed field, partition -1; frame name; response `i32` @13.
#[cfg(test)] // the tests' wire vectors
pub(crate) const MAP_SIZE: i32 = 0x012A00;
/// Message type of every error response.
pub(crate) const ERROR: i32 = 0;

/// Frame flags of an unfragmented message's initial frame (BEGIN_FRAGMENT | END_FRAGMENT).
pub(crate) const UNFRAGMENTED: u16 = 0xC000;
/// Frame flag of the last frame of a message.
pub(crate) const IS_FINAL: u16 = 0x2000;
/// Frame flag that opens a list or a custom type.
pub(crate) const BEGIN_DATA_STRUCTURE: u16 = 0x1000;
/// Frame flag that closes a list or a custom type.
pub(crate) const END_DATA_STRUCTURE: u16 = 0x0800;
/// Frame flag of a null value.
pub(crate) const IS_NULL: u16 = 0x0400;
/// Frame flag of an event's initial frame (we register no listener: such messages are skipped).
#[cfg(test)] // the tests' wire vectors
pub(crate) const IS_EVENT: u16 = 0x0200;

/// Bytes of a frame's length and flags.
const FRAME_HEADER: usize = 6;
/// Content offset of a request's first fixed field (after type, correlation id, partition id).
const REQUEST_FIXED: usize = 16;
/// Content offset of a response's first fixed field (after type, correlation id, backup acks).
const RESPONSE_FIXED: usize = 13;
/// Content offset of the correlation id in an initial frame.
const CORRELATION_AT: usize = 4;

/// Serializer type id of a Java `String` in heap data.
const TYPE_STRING: i32 = -11;
/// Serializer type id of a Java `byte[]` in heap data.
const TYPE_BYTE_ARRAY: i32 = -12;
/// Bytes before a heap data's payload: partition hash and type id, both `i32` BE.
const HEAP_DATA_OVERHEAD: usize = 8;
/// `HashUtil.DEFAULT_MURMUR_SEED`.
const MURMUR_SEED: u32 = 0x0100_0193;

/// A request being built: the initial frame (type, correlation id 0 for now, partition id, then
/// fixed fields appended in order) and the variable frames.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The initial frame's content: its 16-byte header, then the fixed fields.
    initial: Vec<u8>,
    /// The variable frames, already encoded (length, flags, content each).
    tail: Vec<u8>,
    /// Offset in `tail` of the last variable frame's flags, which get [`IS_FINAL`].
    last_flags: Option<usize>,
}

impl Request {
    /// A request of `message_type` for `partition` (-1 for a request on no partition).
    pub(crate) fn new(message_type: i32, partition: i32) -> Request {
        let mut initial = Vec::with_capacity(REQUEST_FIXED + 24);
        initial.extend_from_slice(&message_type.to_le_bytes());
        initial.extend_from_slice(&0i64.to_le_bytes());
        initial.extend_from_slice(&partition.to_le_bytes());
        Request {
            initial,
            tail: Vec::new(),
            last_flags: None,
        }
    }

    /// Appends an `i64` LE fixed field to the initial frame.
    pub(crate) fn fixed_i64(&mut self, v: i64) -> &mut Self {
        self.initial.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends a one-byte fixed field to the initial frame.
    pub(crate) fn fixed_u8(&mut self, v: u8) -> &mut Self {
        self.initial.push(v);
        self
    }

    /// Appends a non-null UUID fixed field (17 bytes: is-null 0, `msb` LE, `lsb` LE).
    pub(crate) fn fixed_uuid(&mut self, msb: u64, lsb: u64) -> &mut Self {
        self.initial.push(0);
        self.initial.extend_from_slice(&msb.to_le_bytes());
        self.initial.extend_from_slice(&lsb.to_le_bytes());
        self
    }

    /// Appends a String frame (the raw UTF-8 bytes).
    ///
    /// # Panics
    ///
    /// When the frame would be longer than `i32::MAX` bytes.
    pub(crate) fn string(&mut self, s: &str) -> &mut Self {
        self.frame(0, s.as_bytes())
    }

    /// Appends a Data frame (already serialized bytes, e.g. [`string_data`]).
    ///
    /// # Panics
    ///
    /// When the frame would be longer than `i32::MAX` bytes.
    pub(crate) fn bytes_frame(&mut self, b: &[u8]) -> &mut Self {
        self.frame(0, b)
    }

    /// Appends a null frame (a nullable field's null).
    pub(crate) fn null(&mut self) -> &mut Self {
        self.frame(IS_NULL, &[])
    }

    /// Appends an empty list: a BEGIN frame and an END frame.
    pub(crate) fn empty_list(&mut self) -> &mut Self {
        self.frame(BEGIN_DATA_STRUCTURE, &[])
            .frame(END_DATA_STRUCTURE, &[])
    }

    /// Appends one variable frame.
    fn frame(&mut self, flags: u16, content: &[u8]) -> &mut Self {
        self.last_flags = Some(self.tail.len() + 4);
        push_frame_header(&mut self.tail, content.len(), flags);
        self.tail.extend_from_slice(content);
        self
    }

    /// The wire bytes with `correlation` written in, IS_FINAL on the last frame, 0xC000 on the
    /// initial frame.
    ///
    /// # Panics
    ///
    /// When the initial frame would be longer than `i32::MAX` bytes.
    pub(crate) fn encode(&self, correlation: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAME_HEADER + self.initial.len() + self.tail.len());
        let flags = match self.last_flags {
            None => UNFRAGMENTED | IS_FINAL,
            Some(_) => UNFRAGMENTED,
        };
        push_frame_header(&mut out, self.initial.len(), flags);
        out.extend_from_slice(&self.initial);
        let at = FRAME_HEADER + CORRELATION_AT;
        out[at..at + 8].copy_from_slice(&correlation.to_le_bytes());
        let tail_at = out.len();
        out.extend_from_slice(&self.tail);
        if let Some(flags_at) = self.last_flags {
            let at = tail_at + flags_at;
            let flags = u16::from_le_bytes([out[at], out[at + 1]]) | IS_FINAL;
            out[at..at + 2].copy_from_slice(&flags.to_le_bytes());
        }
        out
    }
}

/// Writes a frame's length (`content_len` + 6, `i32` LE) and flags (`u16` LE).
///
/// # Panics
///
/// When the frame would be longer than `i32::MAX` bytes.
fn push_frame_header(out: &mut Vec<u8>, content_len: usize, flags: u16) {
    let len = content_len
        .checked_add(FRAME_HEADER)
        .and_then(|n| i32::try_from(n).ok())
        .expect("a Hazelcast frame longer than i32::MAX bytes");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
}

/// One frame of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The frame's flags ([`IS_FINAL`], [`IS_NULL`], …).
    pub(crate) flags: u16,
    /// The frame's content (after its 6-byte header).
    pub(crate) content: Vec<u8>,
}

impl Frame {
    /// Whether all of `flag`'s bits are set.
    fn has(&self, flag: u16) -> bool {
        self.flags & flag == flag
    }
}

/// A byte stream that cannot be a message: the connection has to be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// A frame length below the 6 bytes of its own header.
    TooShort(i32),
    /// A frame longer than the limit.
    TooLong {
        /// The frame's length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::TooShort(len) => {
                write!(f, "malformed Hazelcast frame: length {len} is below 6")
            }
            Malformed::TooLong { len, max } => write!(
                f,
                "malformed Hazelcast frame: length {len} is over the limit of {max} bytes"
            ),
        }
    }
}

impl std::error::Error for Malformed {}

/// Splits one whole message off the front of `buf` when it holds one (frames up to and
/// including the one with IS_FINAL): `Ok(Some((frames, bytes_used)))`, `Ok(None)` when more
/// bytes are needed, `Err` when a frame length is below 6 or a frame is longer than `max_frame`
/// bytes (checked as soon as the frame's header is in, before its content arrives).
pub(crate) fn split_message(
    buf: &[u8],
    max_frame: usize,
) -> Result<Option<(Vec<Frame>, usize)>, Malformed> {
    // First find the message's end without copying anything: most calls on a partial message
    // answer `None`.
    let mut at = 0;
    let mut count = 0;
    loop {
        let Some((len, flags)) = frame_header(buf, at) else {
            return Ok(None);
        };
        let len = usize::try_from(len)
            .ok()
            .filter(|&n| n >= FRAME_HEADER)
            .ok_or(Malformed::TooShort(len))?;
        if len > max_frame {
            return Err(Malformed::TooLong {
                len,
                max: max_frame,
            });
        }
        if buf.len() - at < len {
            return Ok(None);
        }
        at += len;
        count += 1;
        if flags & IS_FINAL != 0 {
            break;
        }
    }
    let mut frames = Vec::with_capacity(count);
    let mut pos = 0;
    while pos < at {
        // Checked above: every header is in and every length is at least 6.
        let Some((len, flags)) = frame_header(buf, pos) else {
            break;
        };
        let end = pos + len as usize;
        frames.push(Frame {
            flags,
            content: buf[pos + FRAME_HEADER..end].to_vec(),
        });
        pos = end;
    }
    Ok(Some((frames, at)))
}

/// The length and flags of the frame header at `at`, if `buf` holds all of it.
fn frame_header(buf: &[u8], at: usize) -> Option<(i32, u16)> {
    let h = buf.get(at..at.checked_add(FRAME_HEADER)?)?;
    Some((
        i32::from_le_bytes([h[0], h[1], h[2], h[3]]),
        u16::from_le_bytes([h[4], h[5]]),
    ))
}

/// A decoded response: accessors that never panic on short or odd input (a newer member
/// appends fields; an older one may send fewer).
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The message's frames, the initial one first.
    frames: Vec<Frame>,
}

impl Response {
    /// The response made of `frames` (as [`split_message`] answers them).
    pub(crate) fn new(frames: Vec<Frame>) -> Response {
        Response { frames }
    }

    /// The initial frame's content (empty when there is no frame at all).
    fn initial(&self) -> &[u8] {
        self.frames.first().map_or(&[], |f| &f.content)
    }

    /// `N` bytes of the initial frame's content from `at`, if it is long enough.
    fn initial_bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        let bytes = self.initial().get(at..at.checked_add(N)?)?;
        bytes.try_into().ok()
    }

    /// The message type (the request's + 1, or [`ERROR`]).
    pub(crate) fn message_type(&self) -> Option<i32> {
        self.initial_bytes(0).map(i32::from_le_bytes)
    }

    /// The correlation id of the request answered.
    pub(crate) fn correlation(&self) -> Option<i64> {
        self.initial_bytes(CORRELATION_AT).map(i64::from_le_bytes)
    }

    /// The one-byte fixed field at content offset 13 + `at` of the initial frame.
    pub(crate) fn fixed_u8(&self, at: usize) -> Option<u8> {
        let [b] = self.initial_bytes(RESPONSE_FIXED.checked_add(at)?)?;
        Some(b)
    }

    /// The boolean fixed field at content offset 13 + `at` (true when the byte is 1).
    pub(crate) fn fixed_bool(&self, at: usize) -> Option<bool> {
        self.fixed_u8(at).map(|b| b == 1)
    }

    /// The `i32` LE fixed field at content offset 13 + `at`.
    pub(crate) fn fixed_i32(&self, at: usize) -> Option<i32> {
        self.initial_bytes(RESPONSE_FIXED.checked_add(at)?)
            .map(i32::from_le_bytes)
    }

    /// The first variable frame after the initial one: `None` when it is a null frame (or
    /// missing); `Some(content)` otherwise. (Used for the nullable Data of get / putIfAbsent.)
    pub(crate) fn nullable_data(&self) -> Option<&[u8]> {
        let frame = self.frames.get(1)?;
        if frame.has(IS_NULL) {
            None
        } else {
            Some(&frame.content)
        }
    }

    /// For an error response (type 0): the first error holder's class name and message
    /// (`"java.lang.IllegalArgumentException: Partition ID cannot be negative!"`, or the class
    /// name alone when the message is null), decoding BEGIN/END structures with fast-forward
    /// over unknown nested frames. `None` for any other response, or one that is not shaped
    /// as an error.
    pub(crate) fn error_text(&self) -> Option<String> {
        if self.message_type()? != ERROR {
            return None;
        }
        let mut frames = Frames {
            frames: &self.frames,
            next: 1,
        };
        // List<ErrorHolder>: BEGIN, holders, END. An empty list has no first holder.
        frames.begin()?;
        if frames.peek()?.has(END_DATA_STRUCTURE) {
            return None;
        }
        let (class, message) = error_holder(&mut frames)?;
        Some(match message {
            Some(message) => format!("{class}: {message}"),
            None => class,
        })
    }
}

/// A forward iterator over a message's frames (Java's `ForwardFrameIterator`).
struct Frames<'a> {
    /// All the message's frames.
    frames: &'a [Frame],
    /// The index of the next frame to read.
    next: usize,
}

impl<'a> Frames<'a> {
    /// The next frame, without consuming it.
    fn peek(&self) -> Option<&'a Frame> {
        self.frames.get(self.next)
    }

    /// The next frame.
    fn take(&mut self) -> Option<&'a Frame> {
        let frame = self.peek()?;
        self.next += 1;
        Some(frame)
    }

    /// Consumes the BEGIN frame of a list or custom type.
    fn begin(&mut self) -> Option<()> {
        self.take()?.has(BEGIN_DATA_STRUCTURE).then_some(())
    }

    /// A String frame's text.
    fn string(&mut self) -> Option<String> {
        let frame = self.take()?;
        if frame.flags & (BEGIN_DATA_STRUCTURE | END_DATA_STRUCTURE | IS_NULL) != 0 {
            return None;
        }
        Some(String::from_utf8_lossy(&frame.content).into_owned())
    }

    /// A nullable String: `Some(None)` for a null frame.
    fn nullable_string(&mut self) -> Option<Option<String>> {
        if self.peek()?.has(IS_NULL) {
            self.next += 1;
            return Some(None);
        }
        self.string().map(Some)
    }

    /// Skips the rest of the current structure, up to and including its END frame, nested
    /// BEGIN/END pairs included (Java's `fastForwardToEndFrame`).
    fn fast_forward_to_end(&mut self) -> Option<()> {
        let mut depth = 1usize;
        while depth > 0 {
            let frame = self.take()?;
            if frame.has(END_DATA_STRUCTURE) {
                depth -= 1;
            } else if frame.has(BEGIN_DATA_STRUCTURE) {
                depth += 1;
            }
        }
        Some(())
    }
}

/// Decodes one ErrorHolder (BEGIN, fixed frame {error code `i32` @0}, String class name,
/// nullable String message, stack trace list, fields of newer versions, END) into its class
/// name and message, leaving `frames` after its END frame.
fn error_holder(frames: &mut Frames<'_>) -> Option<(String, Option<String>)> {
    frames.begin()?;
    let fixed = frames.take()?;
    if fixed.flags & (BEGIN_DATA_STRUCTURE | END_DATA_STRUCTURE) != 0 {
        return None;
    }
    let class = frames.string()?;
    let message = frames.nullable_string()?;
    // The stack trace list and anything a newer member appends: skipped up to the holder's END.
    frames.fast_forward_to_end()?;
    Some((class, message))
}

/// Heap data of a Java String (type -11): 0 hash, type, BE UTF-8 byte count, bytes.
///
/// # Panics
///
/// When `s` is longer than `i32::MAX` bytes.
pub(crate) fn string_data(s: &str) -> Vec<u8> {
    heap_data(TYPE_STRING, s.as_bytes())
}

/// Heap data of a Java `byte[]` (type -12): 0 hash, type, BE length, bytes.
///
/// # Panics
///
/// When `b` is longer than `i32::MAX` bytes.
pub(crate) fn byte_array_data(b: &[u8]) -> Vec<u8> {
    heap_data(TYPE_BYTE_ARRAY, b)
}

/// Heap data of type `type_id` whose payload is `bytes` behind their `i32` BE length.
fn heap_data(type_id: i32, bytes: &[u8]) -> Vec<u8> {
    let len = i32::try_from(bytes.len()).expect("a Hazelcast value longer than i32::MAX bytes");
    let mut out = Vec::with_capacity(HEAP_DATA_OVERHEAD + 4 + bytes.len());
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&type_id.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

/// The payload of `byte[]` heap data, or `None` when `data` is not `byte[]` heap data (another
/// type, or a length that does not match the bytes).
pub(crate) fn byte_array_of(data: &[u8]) -> Option<&[u8]> {
    let type_id = data.get(4..8)?;
    if i32::from_be_bytes([type_id[0], type_id[1], type_id[2], type_id[3]]) != TYPE_BYTE_ARRAY {
        return None;
    }
    let len = data.get(8..12)?;
    let len = usize::try_from(i32::from_be_bytes([len[0], len[1], len[2], len[3]])).ok()?;
    let payload = &data[12..];
    (payload.len() == len).then_some(payload)
}

/// MurmurHash3_x86_32 with Hazelcast's seed 0x01000193 (`HashUtil.MurmurHash3_x86_32`).
pub(crate) fn murmur3(bytes: &[u8]) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    /// The mixing of one 4-byte block (or the tail) before it goes into the hash.
    fn mix(k: u32) -> u32 {
        k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
    }
    let mut h = MURMUR_SEED;
    let mut blocks = bytes.chunks_exact(4);
    for block in &mut blocks {
        let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        h = (h ^ mix(k))
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let k = tail
            .iter()
            .rev()
            .fold(0u32, |k, &b| (k << 8) | u32::from(b));
        h ^= mix(k);
    }
    // Java hashes an int length: the low 32 bits, as it would see them.
    h ^= bytes.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// The partition of serialized key `data` among `count` partitions: murmur3 over `data[8..]`
/// (or the partition hash stored in bytes 0–3 when it is not 0, as `HeapData` does; ours are
/// always 0), then 0 for `i32::MIN`, else `|h| % count`. A `count` that is not positive (a
/// failed authentication's -1) gives 0: check the count before trusting the result.
pub(crate) fn partition_of(data: &[u8], count: i32) -> i32 {
    let stored = data
        .get(..4)
        .map_or(0, |h| i32::from_be_bytes([h[0], h[1], h[2], h[3]]));
    let hash = if data.len() >= HEAP_DATA_OVERHEAD && stored != 0 {
        stored
    } else {
        murmur3(data.get(HEAP_DATA_OVERHEAD..).unwrap_or_default())
    };
    hash_to_index(hash, count)
}

/// `HashUtil.hashToIndex`: 0 for `i32::MIN`, else `|hash| % count` (0 when `count` is not
/// positive).
fn hash_to_index(hash: i32, count: i32) -> i32 {
    if hash == i32::MIN || count <= 0 {
        0
    } else {
        hash.abs() % count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of a hex string (whitespace ignored).
    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    /// A message's wire bytes from `(flags, content)` frames, written as given (no flag added).
    fn wire(frames: &[(u16, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (flags, content) in frames {
            push_frame_header(&mut out, content.len(), *flags);
            out.extend_from_slice(content);
        }
        out
    }

    /// A response's initial frame content: type, correlation id, backup acks 0, then `fixed`.
    fn response_initial(message_type: i32, correlation: i64, fixed: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&message_type.to_le_bytes());
        out.extend_from_slice(&correlation.to_le_bytes());
        out.push(0);
        out.extend_from_slice(fixed);
        out
    }

    /// The one message in `bytes`, parsed.
    fn parse(bytes: &[u8]) -> Response {
        let (frames, used) = split_message(bytes, 1 << 20).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        Response::new(frames)
    }

    #[test]
    fn message_types_and_flags_are_the_5_7_0_constants() {
        // REQUEST_MESSAGE_TYPE of the 5.7.0 jar's codecs, in decimal as javap prints them.
        let types = [
            (AUTHENTICATION, 256),
            (PING, 2816),
            (MAP_GET, 66048),
            (MAP_SET, 69376),
            (MAP_PUT_IF_ABSENT, 69120),
            (MAP_REPLACE_IF_SAME, 66816),
            (MAP_REMOVE_IF_SAME, 67584),
            (MAP_DELETE, 67840),
            (MAP_SET_TTL, 82688),
            (MAP_SIZE, 76288),
            (ERROR, 0),
        ];
        for (ours, jar) in types {
            assert_eq!(ours, jar);
        }
        let flags = [
            UNFRAGMENTED,
            IS_FINAL,
            BEGIN_DATA_STRUCTURE,
            END_DATA_STRUCTURE,
            IS_NULL,
            IS_EVENT,
        ];
        assert_eq!(flags, [0xC000, 1 << 13, 1 << 12, 1 << 11, 1 << 10, 1 << 9]);
    }

    #[test]
    fn murmur_of_raw_bytes_matches_java() {
        // hazelcast-python-client tests/unit/murmur_hash_test.py (values from Java), with the
        // partitions `hashToIndex` gives among 271.
        let vectors: [(&str, i32, i32); 14] = [
            ("key-1", 1228513025, 107),
            ("key-2", 1503416236, 105),
            ("key-3", 1876349747, 218),
            ("key-4", -914632498, 181),
            ("key-5", -803210507, 111),
            ("key-6", -847942313, 115),
            ("key-7", 1196747334, 223),
            ("key-8", -1444149994, 208),
            ("key-9", 1182720020, 140),
            ("", -1585187909, 238),
            ("a", -1686100800, 46),
            ("ab", 312914265, 50),
            ("abc", -2068121803, 208),
            ("abcd", -973615161, 236),
        ];
        for (input, hash, partition) in vectors {
            assert_eq!(murmur3(input.as_bytes()), hash, "murmur3({input:?})");
            assert_eq!(
                hash_to_index(hash, 271),
                partition,
                "partition of {input:?}"
            );
        }
    }

    #[test]
    fn murmur_of_serialized_string_payloads() {
        assert_eq!(murmur3(&hex("000000056b65792d31")), 2132451398);
        assert_eq!(murmur3(&string_data("hello")[8..]), 1985248981);
        assert_eq!(murmur3(&string_data("a")[8..]), 2099876635);
        assert_eq!(murmur3(&string_data("")[8..]), 923237662);
    }

    #[test]
    fn partition_of_string_keys_matches_the_java_client() {
        assert_eq!(partition_of(&string_data("key-1"), 271), 94);
        assert_eq!(partition_of(&string_data("hello"), 271), 270);
        assert_eq!(partition_of(&string_data("a"), 271), 73);
        assert_eq!(partition_of(&string_data(""), 271), 11);
    }

    #[test]
    fn partition_edge_cases() {
        assert_eq!(hash_to_index(i32::MIN, 271), 0);
        assert_eq!(hash_to_index(-5, 271), 5);
        assert_eq!(hash_to_index(i32::MAX, 271), i32::MAX % 271);
        assert_eq!(partition_of(&string_data("key-1"), 0), 0);
        assert_eq!(partition_of(&string_data("key-1"), -1), 0);
        // A stored partition hash wins, as in HeapData.getPartitionHash.
        let mut data = string_data("key-1");
        data[..4].copy_from_slice(&1000i32.to_be_bytes());
        assert_eq!(partition_of(&data, 271), 1000 % 271);
        // Short or empty data: no panic.
        assert_eq!(partition_of(&[], 271), hash_to_index(murmur3(&[]), 271));
        assert_eq!(
            partition_of(&[1, 2, 3], 271),
            hash_to_index(murmur3(&[]), 271)
        );
    }

    #[test]
    fn heap_data_layouts() {
        assert_eq!(
            string_data("hello"),
            hex("00000000 fffffff5 00000005 68656c6c6f")
        );
        assert_eq!(
            string_data("key-1"),
            hex("00000000fffffff5000000056b65792d31")
        );
        assert_eq!(string_data(""), hex("00000000 fffffff5 00000000"));
        // The UTF-8 byte count, not the character count.
        assert_eq!(string_data("é"), hex("00000000 fffffff5 00000002 c3a9"));
        assert_eq!(
            byte_array_data(&[1, 2, 3]),
            hex("00000000 fffffff4 00000003 010203")
        );
        assert_eq!(byte_array_data(&[]), hex("00000000 fffffff4 00000000"));
    }

    #[test]
    fn byte_array_payloads() {
        assert_eq!(
            byte_array_of(&byte_array_data(&[1, 2, 3])),
            Some(&[1u8, 2, 3][..])
        );
        assert_eq!(byte_array_of(&byte_array_data(&[])), Some(&[][..]));
        // Written by the Java client: set("jkey", new byte[]{4,5}).
        assert_eq!(
            byte_array_of(&hex("00000000fffffff4000000020405")),
            Some(&[4u8, 5][..])
        );
        assert_eq!(byte_array_of(&string_data("abc")), None);
        assert_eq!(byte_array_of(&hex("00000000 fffffff4 00000003 0102")), None);
        assert_eq!(byte_array_of(&hex("00000000 fffffff4 00000001 0102")), None);
        assert_eq!(byte_array_of(&hex("00000000 fffffff4 ffffffff")), None);
        assert_eq!(byte_array_of(&hex("00000000 fffffff4 0000")), None);
        assert_eq!(byte_array_of(&[]), None);
    }

    #[test]
    fn authentication_request_matches_the_vector() {
        // Section 4: cluster "dev", type "RST", version "5.7.0", name "c1",
        // UUID 00112233-4455-6677-8899-aabbccddeeff, serialization version 1, 34-byte layout.
        let bytes = Request::new(AUTHENTICATION, -1)
            .fixed_uuid(0x0011_2233_4455_6677, 0x8899_aabb_ccdd_eeff)
            .fixed_u8(1)
            .string("dev")
            .null()
            .null()
            .string("RST")
            .string("5.7.0")
            .string("c1")
            .empty_list()
            .encode(1);
        let expected = hex(
            "2800000000c0000100000100000000000000ffffffff007766554433221100ffeeddccbbaa99880109\
             00000000006465760600000000040600000000040900000000005253540b0000000000352e372e30\
             0800000000006331060000000010060000000028",
        );
        assert_eq!(bytes.len(), 101);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn map_requests_match_the_vectors() {
        let key = string_data("key-1");
        let ping = Request::new(PING, -1).encode(2);
        assert_eq!(ping, hex("1600000000e0000b00000200000000000000ffffffff"));
        let get = Request::new(MAP_GET, 94)
            .fixed_i64(1)
            .string("m")
            .bytes_frame(&key)
            .encode(3);
        assert_eq!(
            get,
            hex(
                "1e00000000c00002010003000000000000005e00000001000000000000000700000000006d170000\
                 00002000000000fffffff5000000056b65792d31"
            )
        );
        let set = Request::new(MAP_SET, 94)
            .fixed_i64(1)
            .fixed_i64(5000)
            .string("m")
            .bytes_frame(&key)
            .bytes_frame(&byte_array_data(&[1, 2, 3]))
            .encode(4);
        assert_eq!(
            set,
            hex(
                "2600000000c0000f010004000000000000005e000000010000000000000088130000000000000700\
                 000000006d17000000000000000000fffffff5000000056b65792d311500000000200000000\
                 0fffffff400000003010203"
            )
        );
        let size = Request::new(MAP_SIZE, -1).string("m").encode(5);
        assert_eq!(
            size,
            hex("1600000000c0002a01000500000000000000ffffffff0700000000206d")
        );
    }

    #[test]
    fn encode_is_repeatable_with_other_correlations() {
        let mut request = Request::new(MAP_DELETE, 7);
        request.fixed_i64(1).string("m").null();
        let a = request.encode(1);
        let b = request.encode(-2);
        assert_eq!(a.len(), b.len());
        assert_eq!(&b[10..18], &(-2i64).to_le_bytes());
        assert_eq!(&a[..10], &b[..10]);
        assert_eq!(&a[18..], &b[18..]);
        // The final null frame carries IS_NULL | IS_FINAL; the initial frame only 0xC000.
        assert_eq!(&a[a.len() - 2..], &(IS_NULL | IS_FINAL).to_le_bytes());
        assert_eq!(&a[4..6], &UNFRAGMENTED.to_le_bytes());
    }

    #[test]
    fn remove_if_same_request_layout() {
        // Map.removeIfSame: thread id @16, frames name, key, value (as the 5.7.0 jar's codec).
        let key = string_data("key-1");
        let value = byte_array_data(&[1, 2, 3]);
        let bytes = Request::new(MAP_REMOVE_IF_SAME, 94)
            .fixed_i64(1)
            .string("m")
            .bytes_frame(&key)
            .bytes_frame(&value)
            .encode(6);
        let (frames, used) = split_message(&bytes, 1 << 20).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[0].content.len(), 24);
        assert_eq!(&frames[0].content[..4], &0x010800i32.to_le_bytes());
        assert_eq!(&frames[0].content[16..], &1i64.to_le_bytes());
        assert_eq!(frames[3].flags, IS_FINAL);
        assert_eq!(frames[3].content, value);
    }

    #[test]
    fn split_message_takes_one_message_at_a_time() {
        let first = Request::new(PING, -1).encode(9);
        let second = wire(&[
            (UNFRAGMENTED, &response_initial(MAP_GET + 1, 10, &[])),
            (IS_FINAL, &byte_array_data(&[7])),
        ]);
        let mut both = first.clone();
        both.extend_from_slice(&second);
        let (frames, used) = split_message(&both, 1 << 20).unwrap().unwrap();
        assert_eq!(used, first.len());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].flags, UNFRAGMENTED | IS_FINAL);
        assert_eq!(frames[0].content.len(), 16);
        let (frames, used) = split_message(&both[used..], 1 << 20).unwrap().unwrap();
        assert_eq!(used, second.len());
        assert_eq!(
            frames,
            vec![
                Frame {
                    flags: UNFRAGMENTED,
                    content: response_initial(MAP_GET + 1, 10, &[]),
                },
                Frame {
                    flags: IS_FINAL,
                    content: byte_array_data(&[7]),
                },
            ]
        );
        let response = Response::new(frames);
        assert_eq!(response.message_type(), Some(MAP_GET + 1));
        assert_eq!(response.correlation(), Some(10));
        assert_eq!(response.nullable_data(), Some(&byte_array_data(&[7])[..]));
    }

    #[test]
    fn split_message_waits_for_a_truncated_message() {
        let message = wire(&[
            (UNFRAGMENTED, &response_initial(MAP_GET + 1, 3, &[])),
            (0, b"middle"),
            (IS_NULL | IS_FINAL, &[]),
        ]);
        for cut in 0..message.len() {
            assert_eq!(
                split_message(&message[..cut], 1 << 20),
                Ok(None),
                "cut at {cut}"
            );
        }
        let (frames, used) = split_message(&message, 1 << 20).unwrap().unwrap();
        assert_eq!((frames.len(), used), (3, message.len()));
        // A frame without IS_FINAL needs the frames after it.
        let open = wire(&[(UNFRAGMENTED, &response_initial(PING + 1, 3, &[]))]);
        assert_eq!(split_message(&open, 1 << 20), Ok(None));
    }

    #[test]
    fn split_message_refuses_bad_lengths() {
        for len in [5i32, 0, -1, i32::MIN] {
            let mut bytes = len.to_le_bytes().to_vec();
            bytes.extend_from_slice(&IS_FINAL.to_le_bytes());
            assert_eq!(
                split_message(&bytes, 1 << 20),
                Err(Malformed::TooShort(len))
            );
        }
        // Too long: refused from the header alone, before the content is in.
        let mut bytes = 1001i32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&IS_FINAL.to_le_bytes());
        assert_eq!(
            split_message(&bytes, 1000),
            Err(Malformed::TooLong {
                len: 1001,
                max: 1000
            })
        );
        // A bad frame after a good one is refused too.
        let mut bytes = wire(&[(UNFRAGMENTED, &response_initial(PING + 1, 1, &[]))]);
        bytes.extend_from_slice(&3i32.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes());
        assert_eq!(split_message(&bytes, 1000), Err(Malformed::TooShort(3)));
        // The limit itself is allowed; a header-only frame is fine.
        let bytes = wire(&[(IS_FINAL | IS_NULL, &[])]);
        let (frames, used) = split_message(&bytes, 6).unwrap().unwrap();
        assert_eq!((frames.len(), used, frames[0].content.len()), (1, 6, 0));
        assert!(Malformed::TooShort(5).to_string().contains("length 5"));
    }

    /// A live-shaped error response: BEGIN list, holder {23, class, message, stack trace list
    /// (one element), a field of a newer version}, a cause holder, END list.
    fn error_response(message: Option<&str>) -> Vec<u8> {
        let code = 23i32.to_le_bytes();
        let line = 133i32.to_le_bytes();
        let class = b"java.lang.IllegalArgumentException".as_slice();
        let mut frames: Vec<(u16, &[u8])> = Vec::new();
        let initial = response_initial(ERROR, 42, &[]);
        frames.push((UNFRAGMENTED, &initial));
        frames.push((BEGIN_DATA_STRUCTURE, &[]));
        frames.push((BEGIN_DATA_STRUCTURE, &[]));
        frames.push((0, &code));
        frames.push((0, class));
        match message {
            Some(m) => frames.push((0, m.as_bytes())),
            None => frames.push((IS_NULL, &[])),
        }
        frames.push((BEGIN_DATA_STRUCTURE, &[]));
        frames.push((BEGIN_DATA_STRUCTURE, &[]));
        frames.push((0, &line));
        frames.push((0, b"com.hazelcast.internal.util.Preconditions"));
        frames.push((0, b"checkNotNegative"));
        frames.push((0, b"Preconditions.java"));
        frames.push((END_DATA_STRUCTURE, &[]));
        frames.push((END_DATA_STRUCTURE, &[]));
        // A nested structure a newer member might append to the holder.
        frames.push((BEGIN_DATA_STRUCTURE, &[]));
        frames.push((0, b"unknown"));
        frames.push((END_DATA_STRUCTURE, &[]));
        frames.push((END_DATA_STRUCTURE, &[]));
        // The cause.
        frames.push((BEGIN_DATA_STRUCTURE, &[]));
        frames.push((0, &code));
        frames.push((0, b"java.lang.RuntimeException"));
        frames.push((0, b"cause"));
        frames.push((BEGIN_DATA_STRUCTURE, &[]));
        frames.push((END_DATA_STRUCTURE, &[]));
        frames.push((END_DATA_STRUCTURE, &[]));
        frames.push((END_DATA_STRUCTURE | IS_FINAL, &[]));
        wire(&frames)
    }

    #[test]
    fn error_text_of_an_error_response() {
        let response = parse(&error_response(Some("Partition ID cannot be negative!")));
        assert_eq!(response.message_type(), Some(ERROR));
        assert_eq!(response.correlation(), Some(42));
        assert_eq!(
            response.error_text().as_deref(),
            Some("java.lang.IllegalArgumentException: Partition ID cannot be negative!")
        );
        let response = parse(&error_response(None));
        assert_eq!(
            response.error_text().as_deref(),
            Some("java.lang.IllegalArgumentException")
        );
    }

    #[test]
    fn error_text_of_odd_responses() {
        // Not an error.
        let ok = parse(&wire(&[(
            UNFRAGMENTED | IS_FINAL,
            &response_initial(PING + 1, 1, &[]),
        )]));
        assert_eq!(ok.error_text(), None);
        // An error with no holder list, an empty list, a holder cut short.
        let initial = response_initial(ERROR, 1, &[]);
        let bare = parse(&wire(&[(UNFRAGMENTED | IS_FINAL, &initial)]));
        assert_eq!(bare.error_text(), None);
        let empty = parse(&wire(&[
            (UNFRAGMENTED, &initial),
            (BEGIN_DATA_STRUCTURE, &[]),
            (END_DATA_STRUCTURE | IS_FINAL, &[]),
        ]));
        assert_eq!(empty.error_text(), None);
        let cut = Response::new(vec![
            Frame {
                flags: UNFRAGMENTED,
                content: initial.clone(),
            },
            Frame {
                flags: BEGIN_DATA_STRUCTURE,
                content: vec![],
            },
            Frame {
                flags: BEGIN_DATA_STRUCTURE,
                content: vec![],
            },
            Frame {
                flags: 0,
                content: 23i32.to_le_bytes().to_vec(),
            },
            Frame {
                flags: 0,
                content: b"java.lang.Error".to_vec(),
            },
        ]);
        assert_eq!(cut.error_text(), None);
        // Every truncation of a real-shaped error: no panic.
        let full = error_response(Some("m"));
        let (frames, _) = split_message(&full, 1 << 20).unwrap().unwrap();
        for n in 0..frames.len() {
            let _ = Response::new(frames[..n].to_vec()).error_text();
        }
    }

    #[test]
    fn nullable_data_of_null_and_data_frames() {
        let initial = response_initial(MAP_GET + 1, 3, &[]);
        let absent = parse(&wire(&[
            (UNFRAGMENTED, &initial),
            (IS_NULL | IS_FINAL, &[]),
        ]));
        assert_eq!(absent.nullable_data(), None);
        let value = byte_array_data(&[1, 2, 3]);
        let present = parse(&wire(&[(UNFRAGMENTED, &initial), (IS_FINAL, &value)]));
        assert_eq!(present.nullable_data(), Some(&value[..]));
        let missing = parse(&wire(&[(UNFRAGMENTED | IS_FINAL, &initial)]));
        assert_eq!(missing.nullable_data(), None);
    }

    #[test]
    fn fixed_fields_are_bounds_checked() {
        // replaceIfSame's response: bool @13, initial frame 14 bytes.
        let replaced = parse(&wire(&[(
            UNFRAGMENTED | IS_FINAL,
            &response_initial(MAP_REPLACE_IF_SAME + 1, 8, &[1]),
        )]));
        assert_eq!(replaced.fixed_bool(0), Some(true));
        assert_eq!(replaced.fixed_u8(0), Some(1));
        assert_eq!(replaced.fixed_bool(1), None);
        assert_eq!(replaced.fixed_i32(0), None);
        assert_eq!(replaced.fixed_bool(usize::MAX), None);
        assert_eq!(replaced.fixed_i32(usize::MAX - 1), None);
        // An older member's delete: no field at all.
        let deleted = parse(&wire(&[(
            UNFRAGMENTED | IS_FINAL,
            &response_initial(MAP_DELETE + 1, 8, &[]),
        )]));
        assert_eq!(deleted.fixed_bool(0), None);
        let not = parse(&wire(&[(
            UNFRAGMENTED | IS_FINAL,
            &response_initial(MAP_DELETE + 1, 8, &[0]),
        )]));
        assert_eq!(not.fixed_bool(0), Some(false));
        // size: i32 @13; the auth response's partition count @32 = 13 + 19.
        let size = parse(&wire(&[(
            UNFRAGMENTED | IS_FINAL,
            &response_initial(MAP_SIZE + 1, 8, &(-7i32).to_le_bytes()),
        )]));
        assert_eq!(size.fixed_i32(0), Some(-7));
        assert_eq!(size.fixed_i32(1), None);
        // No frames, or a frame too short for the header.
        let nothing = Response::new(Vec::new());
        assert_eq!(nothing.message_type(), None);
        assert_eq!(nothing.correlation(), None);
        assert_eq!(nothing.fixed_u8(0), None);
        assert_eq!(nothing.nullable_data(), None);
        assert_eq!(nothing.error_text(), None);
        let short = Response::new(vec![Frame {
            flags: UNFRAGMENTED | IS_FINAL,
            content: vec![0x01, 0x01, 0, 0, 9],
        }]);
        assert_eq!(short.message_type(), Some(0x0101));
        assert_eq!(short.correlation(), None);
        assert_eq!(short.fixed_bool(0), None);
    }
}
