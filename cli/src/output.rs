//! What each command prints: a table for people, or one JSON document (see cli/README.md for
//! the shapes) for scripts.

use comfy_table::{
    presets, CellAlignment, ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle,
    Width,
};
use serde_json::{json, Value as Json};
use sessionstore::admin::{SessionData, SessionInfo, Stats, TTL_BUCKETS_MS};

use crate::json::{to_json, type_name};

/// Where the sessions were read: the redacted url (never a password) and the prefix.
pub struct Origin {
    pub url: String,
    pub prefix: String,
}

/// The longest value the `show` table prints before it cuts it (`--json` prints all).
const VALUE_CELL_CHARS: usize = 72;

/// Columns under a header, one line between them: what `kubectl get` or `docker ps` print,
/// easy to read and to grep.
const LIST: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('─').junction(' '));

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(LIST)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    t
}

fn right(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// A lease left, as people read it: `850ms`, `59.2s`, `12m03s`, `5h02m`, `3d04h`; `none`.
pub fn ttl(ms: Option<u64>) -> String {
    let Some(ms) = ms else {
        return "none".to_owned();
    };
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{}.{}s", ms / 1000, ms % 1000 / 100),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms / 1000 % 60),
        3_600_000..86_400_000 => format!("{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60),
        _ => format!("{}d{:02}h", ms / 86_400_000, ms / 3_600_000 % 24),
    }
}

/// A bucket bound: `1s`, `10m`, `1d`.
fn round_duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{}s", ms / 1000),
        60_000..3_600_000 => format!("{}m", ms / 60_000),
        3_600_000..86_400_000 => format!("{}h", ms / 3_600_000),
        _ => format!("{}d", ms / 86_400_000),
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Bytes as people read them: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

fn info_json(info: &SessionInfo) -> Json {
    json!({
        "id": info.id.as_str(),
        "keys": info.keys,
        "bytes": info.bytes,
        "ttl_ms": info.ttl_ms,
    })
}

/// `ls`: the sessions found (sorted by id); `limited` when `--limit` stopped the scan.
pub fn ls(origin: &Origin, sessions: &[SessionInfo], limited: bool, as_json: bool) -> String {
    if as_json {
        return json!({
            "url": origin.url,
            "prefix": origin.prefix,
            "count": sessions.len(),
            "limited": limited,
            "sessions": sessions.iter().map(info_json).collect::<Vec<_>>(),
        })
        .to_string();
    }
    let mut out = String::new();
    if !sessions.is_empty() {
        let mut t = table(&["SESSION", "KEYS", "BYTES", "TTL"]);
        for s in sessions {
            t.add_row([
                s.id.to_string(),
                count(s.keys as u64),
                count(s.bytes),
                ttl(s.ttl_ms),
            ]);
        }
        right(&mut t, &[1, 2, 3]);
        out.push_str(&t.trim_fmt());
        out.push('\n');
    }
    out.push_str(&format!(
        "{} (prefix {} on {})",
        plural(sessions.len() as u64, "session", "sessions"),
        origin.prefix,
        origin.url
    ));
    if limited {
        out.push_str(&format!(
            "; stopped at --limit {}: there are more",
            sessions.len()
        ));
    }
    out
}

/// `show`: every key of one session with its value as JSON.
pub fn show(origin: &Origin, data: &SessionData, as_json: bool) -> String {
    let info = &data.info;
    if as_json {
        let values: serde_json::Map<String, Json> = data
            .entries
            .iter()
            .map(|(key, doc)| (key.clone(), to_json(doc)))
            .collect();
        return json!({
            "url": origin.url,
            "prefix": origin.prefix,
            "id": info.id.as_str(),
            "keys": info.keys,
            "bytes": info.bytes,
            "ttl_ms": info.ttl_ms,
            "values": values,
        })
        .to_string();
    }
    let mut out = format!(
        "session {} (prefix {} on {}): {}, {}, {}\n",
        info.id,
        origin.prefix,
        origin.url,
        plural(info.keys as u64, "key", "keys"),
        plural(info.bytes, "byte", "bytes"),
        match info.ttl_ms {
            Some(_) => format!("lease left {}", ttl(info.ttl_ms)),
            None => "no lease".to_owned(),
        }
    );
    if data.entries.is_empty() {
        out.push_str("(no keys)");
        return out;
    }
    let mut t = table(&["KEY", "TYPE", "VALUE"]);
    let mut cut = false;
    for (key, doc) in &data.entries {
        let mut text = to_json(doc).to_string();
        if text.chars().count() > VALUE_CELL_CHARS {
            text = text.chars().take(VALUE_CELL_CHARS - 1).collect::<String>() + "…";
            cut = true;
        }
        // An empty key is a key too (docs/API.md §2).
        let key = if key.is_empty() {
            "\"\"".to_owned()
        } else {
            key.clone()
        };
        t.add_row([key, type_name(doc), text]);
    }
    if let Some(c) = t.column_mut(2) {
        c.set_constraint(ColumnConstraint::UpperBoundary(Width::Fixed(
            VALUE_CELL_CHARS as u16 + 2,
        )));
    }
    out.push_str(&t.trim_fmt());
    if cut {
        out.push_str("\n(long values cut; --json prints them whole)");
    }
    out
}

/// `destroy`: the sessions destroyed and the ids that had none.
pub fn destroy(origin: &Origin, destroyed: &[String], missing: &[String], as_json: bool) -> String {
    if as_json {
        return json!({
            "url": origin.url,
            "prefix": origin.prefix,
            "destroyed": destroyed,
            "missing": missing,
        })
        .to_string();
    }
    let mut lines: Vec<String> = destroyed
        .iter()
        .map(|id| format!("destroyed {id}"))
        .collect();
    lines.extend(missing.iter().map(|id| format!("no such session {id}")));
    lines.push(format!(
        "{} destroyed (prefix {} on {})",
        plural(destroyed.len() as u64, "session", "sessions"),
        origin.prefix,
        origin.url
    ));
    lines.join("\n")
}

/// The buckets of [`TTL_BUCKETS_MS`] with their counts (zeros when no session has a lease).
fn buckets(stats: &Stats) -> Vec<(Option<u64>, u64)> {
    match &stats.ttl {
        Some(spread) => spread.buckets.clone(),
        None => TTL_BUCKETS_MS
            .iter()
            .map(|&b| (Some(b), 0))
            .chain([(None, 0)])
            .collect(),
    }
}

/// `stats`: the totals and the spread of the leases left.
pub fn stats(origin: &Origin, stats: &Stats, as_json: bool) -> String {
    if as_json {
        let ttl = stats
            .ttl
            .as_ref()
            .map(|s| json!({ "min": s.min_ms, "p50": s.p50_ms, "p90": s.p90_ms, "max": s.max_ms }));
        let buckets: Vec<Json> = buckets(stats)
            .into_iter()
            .map(|(up_to, n)| json!({ "up_to_ms": up_to, "sessions": n }))
            .collect();
        return json!({
            "url": origin.url,
            "prefix": origin.prefix,
            "sessions": stats.sessions,
            "keys": stats.keys,
            "bytes": stats.bytes,
            "without_ttl": stats.without_ttl,
            "ttl_ms": ttl,
            "ttl_buckets": buckets,
        })
        .to_string();
    }
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    t.add_row(["url".to_owned(), origin.url.clone()]);
    t.add_row(["prefix".to_owned(), origin.prefix.clone()]);
    t.add_row(["sessions".to_owned(), count(stats.sessions)]);
    t.add_row(["keys".to_owned(), count(stats.keys)]);
    t.add_row([
        "bytes".to_owned(),
        format!("{} ({})", count(stats.bytes), bytes(stats.bytes)),
    ]);
    t.add_row([
        "without a TTL".to_owned(),
        format!("{} (never expire)", count(stats.without_ttl)),
    ]);
    match &stats.ttl {
        None => t.add_row(["TTL left".to_owned(), "no session has a lease".to_owned()]),
        Some(s) => t.add_row([
            "TTL left".to_owned(),
            format!(
                "min {}, p50 {}, p90 {}, max {}",
                ttl(Some(s.min_ms)),
                ttl(Some(s.p50_ms)),
                ttl(Some(s.p90_ms)),
                ttl(Some(s.max_ms))
            ),
        ]),
    };
    for (up_to, n) in buckets(stats) {
        let label = match up_to {
            Some(ms) => format!("  TTL ≤ {}", round_duration(ms)),
            None => format!("  TTL > {}", round_duration(TTL_BUCKETS_MS[5])),
        };
        t.add_row([label, count(n)]);
    }
    t.trim_fmt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_like_durations() {
        assert_eq!(ttl(None), "none");
        assert_eq!(ttl(Some(0)), "0ms");
        assert_eq!(ttl(Some(999)), "999ms");
        assert_eq!(ttl(Some(59_999)), "59.9s");
        assert_eq!(ttl(Some(60_000)), "1m00s");
        assert_eq!(ttl(Some(3_599_000)), "59m59s");
        assert_eq!(ttl(Some(3_600_000 * 5 + 120_000)), "5h02m");
        assert_eq!(ttl(Some(86_400_000 * 3 + 3_600_000 * 4)), "3d04h");
    }

    #[test]
    fn counts_and_bytes() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        let bounds: Vec<String> = TTL_BUCKETS_MS.iter().map(|&b| round_duration(b)).collect();
        assert_eq!(bounds, ["1s", "10s", "1m", "10m", "1h", "1d"]);
    }
}
