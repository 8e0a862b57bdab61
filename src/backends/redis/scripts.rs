//! The Lua scripts behind every operation (docs/API.md §5, §8).
//!
//! Each session is one hash. Beside the user's fields it holds one more, [`GEN_FIELD`], whose
//! name is not valid UTF-8 and so can never be a key: the session's generation, written when
//! the session is created: its prefix's [`namespace`] (`<prefix>/`) then a random 128-bit
//! token in hex. A handle remembers the generation it attached to; every script first checks
//! that the hash still carries it and answers the error `SSGONE` when it does not (the session
//! was destroyed, or its lease reclaimed, since). Writes never create the hash, so no late
//! write resurrects a session. Every script of a call touches exactly one key, so a session
//! lives in one cluster slot.
//!
//! The namespace makes prefixes unambiguous. Prefix `app` with id `x:victim` and prefix
//! `app:x` with id `victim` name the same key, `app:x:victim`; its generation tells whose
//! session it is, attach refuses the other prefix (`SSTAKEN`), and no other call can reach it
//! (they all check the whole generation).

use ::redis::{Cmd, Script};

/// The hash field holding the session's generation: the bytes `0xFF 'g' 'e' 'n'`.
pub(crate) const GEN_FIELD: &[u8] = b"\xffgen";

/// The error code a script answers when the handle's generation is gone.
pub(crate) const GONE: &str = "SSGONE";

/// The error code attach answers when the key holds a session of another prefix.
pub(crate) const TAKEN: &str = "SSTAKEN";

/// What starts the generation of every session of `prefix`: the prefix and `/`, which no
/// prefix holds.
pub(crate) fn namespace(prefix: &str) -> String {
    format!("{prefix}/")
}

// Common arguments: KEYS[1] = the session's hash, ARGV[1] = the handle's generation,
// ARGV[2] = the lease in ms ("0": none). `G` is GEN_FIELD spelled in Lua.
const CHECK: &str = r"
local G = '\255gen'
if redis.call('HGET', KEYS[1], G) ~= ARGV[1] then
  return redis.error_reply('SSGONE session destroyed')
end
";

const LEASE: &str = r"
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
";

/// One script: its body and SHA1, sent as EVALSHA with an EVAL fallback on NOSCRIPT.
pub(crate) struct Lua {
    body: String,
    sha: String,
}

impl Lua {
    pub(crate) fn new(body: String) -> Self {
        let sha = Script::new(&body).get_hash().to_owned();
        Lua { body, sha }
    }

    /// `EVALSHA sha 1 key args…`, or `EVAL body 1 key args…` when `full`.
    pub(crate) fn cmd(&self, full: bool, key: &[u8], args: &[&[u8]]) -> Cmd {
        let mut cmd = if full {
            let mut c = ::redis::cmd("EVAL");
            c.arg(self.body.as_str());
            c
        } else {
            let mut c = ::redis::cmd("EVALSHA");
            c.arg(self.sha.as_str());
            c
        };
        cmd.arg(1).arg(key);
        for a in args {
            cmd.arg(*a);
        }
        cmd
    }
}

/// Every script, built once per backend.
pub(crate) struct Scripts {
    /// ARGV[1] = a fresh generation, ARGV[2] = lease, ARGV[3] = the namespace. Returns the
    /// session's generation, creating the session with the fresh one when the hash does not
    /// exist; `SSTAKEN` when it is another namespace's.
    pub attach: Lua,
    /// ARGV[3] = key, ARGV[4] = value.
    pub set: Lua,
    /// ARGV[3] = key. 1 or 0.
    pub has: Lua,
    /// ARGV[3] = key. 1 when it existed.
    pub del: Lua,
    /// Number of user fields.
    pub len: Lua,
    /// User field names.
    pub keys: Lua,
    /// Flat [field, value, …] of user fields.
    pub get_all: Lua,
    /// ARGV[3..] = key, value, key, value…
    pub set_many: Lua,
    /// ARGV[3..] = key, value, key, value…: every other user field goes, in the same script.
    pub replace_all: Lua,
    /// Deletes the hash when it still carries the handle's generation; else nothing.
    pub destroy: Lua,
    /// ARGV[1] = the namespace. Deletes the hash when it holds a session of this namespace.
    pub destroy_session: Lua,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let checked = |body: &str| Lua::new(format!("{CHECK}{body}"));
        Scripts {
            attach: Lua::new(format!(
                r"
local G = '\255gen'
local g = redis.call('HGET', KEYS[1], G)
if not g then
  redis.call('HSET', KEYS[1], G, ARGV[1])
  g = ARGV[1]
elseif string.sub(g, 1, #ARGV[3]) ~= ARGV[3] then
  return redis.error_reply('SSTAKEN held by ' .. (string.match(g, '^(.*)/') or 'no prefix'))
end
{LEASE}
return g
"
            )),
            set: checked(&format!(
                "redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])\n{LEASE}\nreturn 1"
            )),
            has: checked("return redis.call('HEXISTS', KEYS[1], ARGV[3])"),
            del: checked("return redis.call('HDEL', KEYS[1], ARGV[3])"),
            len: checked("return redis.call('HLEN', KEYS[1]) - 1"),
            keys: checked(
                r"
local out = {}
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if f ~= G then out[#out + 1] = f end
end
return out",
            ),
            get_all: checked(
                r"
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  if all[i] ~= G then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out",
            ),
            // unpack() is bounded by Lua's C stack: HSET in batches of 200 pairs (still one
            // script, so still atomic).
            set_many: checked(&format!(
                r"
local i = 3
while i <= #ARGV do
  local j = math.min(i + 399, #ARGV)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
{LEASE}
return 1"
            )),
            replace_all: checked(&format!(
                r"
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if f ~= G then redis.call('HDEL', KEYS[1], f) end
end
local i = 3
while i <= #ARGV do
  local j = math.min(i + 399, #ARGV)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
{LEASE}
return 1"
            )),
            destroy: Lua::new(
                r"
if redis.call('HGET', KEYS[1], '\255gen') == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1"
                    .to_owned(),
            ),
            destroy_session: Lua::new(
                r"
local g = redis.call('HGET', KEYS[1], '\255gen')
if g and string.sub(g, 1, #ARGV[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1"
                    .to_owned(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_spells_the_generation_field() {
        // Lua's '\255gen' is the byte 0xFF then "gen": never valid UTF-8, so never a key.
        assert_eq!(GEN_FIELD, &[0xff, b'g', b'e', b'n']);
        assert!(String::from_utf8(GEN_FIELD.to_vec()).is_err());
        let scripts = Scripts::new();
        for lua in [
            &scripts.attach,
            &scripts.set,
            &scripts.destroy,
            &scripts.destroy_session,
        ] {
            assert!(lua.body.contains(r"'\255gen'"));
        }
    }
}
