//! Creates 1,000,000 memory sessions with 3 small keys each (user id, tenant, room) and
//! prints the process's resident memory. Run: `cargo run --release --example million_sessions`.

use sessionstore::{value, StoreFactory};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn main() {
    const SESSIONS: u32 = 1_000_000;
    let before = rss_mib();
    let factory = StoreFactory::open("memory://").expect("memory factory");
    let mut user_id = Vec::new();
    for i in 0..SESSIONS {
        // A UUID-shaped id, as a Socket.IO server would use.
        let sid = format!("{:08x}-0b1d-4c5e-9f00-{:012x}", i, u64::from(i) * 7919);
        let store = factory.create_store(&sid).expect("create");
        user_id.clear();
        rmp::encode::write_uint(&mut user_id, u64::from(i)).expect("encode");
        store.set("userId", &user_id).expect("set");
        store
            .set("tenant", &value::encode_str("acme"))
            .expect("set");
        store.set("room", &value::encode_str("lobby")).expect("set");
        // The store handle is released here; the session's data stays.
    }
    let after = rss_mib();
    println!(
        "{SESSIONS} sessions x 3 keys: RSS {after:.0} MiB ({:.0} MiB for the sessions, {:.0} bytes each)",
        after - before,
        (after - before) * 1024.0 * 1024.0 / f64::from(SESSIONS)
    );
}
