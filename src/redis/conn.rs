//! Connections: one shared, multiplexed connection per backend, so concurrent callers pipeline
//! their requests on it. A standalone or Sentinel link reconnects by itself (asking the
//! sentinels for the current master each time); a cluster link is redis-rs's cluster
//! connection, which follows slot moves and failovers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use ::redis::aio::{ConnectionLike, MultiplexedConnection};
use ::redis::cluster::ClusterClientBuilder;
use ::redis::cluster_async::ClusterConnection;
use ::redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use ::redis::{
    AsyncConnectionConfig, Client, Cmd, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
    RedisResult, TlsMode, Value,
};

use super::errors::breaks_connection;
use crate::config::{RedisConfig, RedisTopology};

/// Where a standalone or Sentinel link gets its next connection from.
// One per backend, so the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Source {
    Fixed(Client),
    Sentinel(Sentinels),
}

/// The sentinels of a url, asked one at a time, each for a share of the time left, starting
/// with the one that answered last: a sentinel that accepts but never answers costs one share,
/// not the whole call.
struct Sentinels {
    /// One client per sentinel, in url order.
    each: Vec<SentinelClient>,
    /// Which one to ask first.
    first: usize,
    timeout: Duration,
}

impl Sentinels {
    async fn master(&mut self) -> RedisResult<Client> {
        let n = self.each.len();
        if n == 0 {
            return Err(closed()); // `release` emptied it
        }
        let share = self.timeout / n as u32;
        let mut last = None;
        for i in 0..n {
            let at = (self.first + i) % n;
            match tokio::time::timeout(share, self.each[at].async_get_client()).await {
                Ok(Ok(client)) => {
                    self.first = at;
                    return Ok(client);
                }
                Ok(Err(e)) => last = Some(e),
                Err(_) => {
                    last = Some(::redis::RedisError::from(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "a sentinel did not answer",
                    )))
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            ::redis::RedisError::from((::redis::ErrorKind::EmptySentinelList, "no sentinel"))
        }))
    }
}

/// A multiplexed connection that is replaced after it broke. `epoch` numbers the connections,
/// so a failure on an old one never throws away a newer one.
pub(crate) struct Direct {
    current: Mutex<Option<(MultiplexedConnection, u64)>>,
    // Serializes connecting: one attempt at a time, the other callers wait for its result.
    source: tokio::sync::Mutex<(Source, u64)>,
    config: AsyncConnectionConfig,
    closed: AtomicBool,
}

/// The connection of one backend.
// One per backend, so the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Link {
    Direct(Direct),
    Cluster(Mutex<Option<ClusterConnection>>),
}

/// A connection handed to one request, with what is needed to report its failure.
pub(crate) enum Conn {
    Direct(MultiplexedConnection, u64),
    Cluster(ClusterConnection),
}

fn addr(host: &str, port: u16, tls: bool) -> ConnectionAddr {
    if tls {
        ConnectionAddr::TcpTls {
            host: host.to_owned(),
            port,
            insecure: false,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host.to_owned(), port)
    }
}

fn closed() -> ::redis::RedisError {
    ::redis::RedisError::from((::redis::ErrorKind::Client, "the store factory is closed"))
}

impl Link {
    /// Builds the link for `cfg` and makes its first connection (the caller bounds the time).
    pub(crate) async fn open(cfg: &RedisConfig, timeout: Duration) -> RedisResult<Link> {
        if cfg.tls {
            // redis-rs leaves the choice of crypto to the application; another provider
            // installed first by the host process is fine too.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let conn_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let mut redis_info = RedisConnectionInfo::default().set_db(i64::from(cfg.db));
        if let Some(u) = &cfg.username {
            redis_info = redis_info.set_username(u);
        }
        if let Some(p) = &cfg.password {
            redis_info = redis_info.set_password(p);
        }
        let source = match cfg.topology {
            RedisTopology::Standalone => {
                let (host, port) = &cfg.nodes[0];
                let info = addr(host, *port, cfg.tls)
                    .into_connection_info()?
                    .set_redis_settings(redis_info);
                Source::Fixed(Client::open(info)?)
            }
            RedisTopology::Sentinel => {
                let master = cfg.master.as_deref().unwrap_or("mymaster");
                let each = cfg
                    .nodes
                    .iter()
                    .map(|(h, p)| {
                        let one = [addr(h, *p, cfg.tls)];
                        let mut b =
                            SentinelClientBuilder::new(one, master, SentinelServerType::Master)?
                                .set_client_to_redis_db(i64::from(cfg.db));
                        if let Some(u) = &cfg.username {
                            b = b.set_client_to_redis_username(u);
                        }
                        if let Some(p) = &cfg.password {
                            b = b.set_client_to_redis_password(p);
                        }
                        if cfg.tls {
                            b = b
                                .set_client_to_redis_tls_mode(TlsMode::Secure)
                                .set_client_to_sentinel_tls_mode(TlsMode::Secure);
                        }
                        b.build()
                    })
                    .collect::<RedisResult<Vec<_>>>()?;
                Source::Sentinel(Sentinels {
                    each,
                    first: 0,
                    timeout,
                })
            }
            RedisTopology::Cluster => {
                let nodes = cfg
                    .nodes
                    .iter()
                    .map(|(h, p)| addr(h, *p, cfg.tls).into_connection_info())
                    .collect::<RedisResult<Vec<_>>>()?;
                let mut b = ClusterClientBuilder::new(nodes)
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(2)
                    .min_retry_wait(20)
                    .max_retry_wait(200);
                if let Some(u) = &cfg.username {
                    b = b.username(u);
                }
                if let Some(p) = &cfg.password {
                    b = b.password(p);
                }
                if cfg.tls {
                    b = b.tls(TlsMode::Secure);
                }
                let conn = b.build()?.get_async_connection().await?;
                return Ok(Link::Cluster(Mutex::new(Some(conn))));
            }
        };
        let direct = Direct {
            current: Mutex::new(None),
            source: tokio::sync::Mutex::new((source, 0)),
            config: conn_config,
            closed: AtomicBool::new(false),
        };
        direct.connect().await?;
        Ok(Link::Direct(direct))
    }

    /// A connection for one request, connecting first when there is none.
    pub(crate) async fn get(&self) -> RedisResult<Conn> {
        match self {
            Link::Direct(d) => {
                if let Some((c, epoch)) = &*lock(&d.current) {
                    return Ok(Conn::Direct(c.clone(), *epoch));
                }
                let (c, epoch) = d.connect().await?;
                Ok(Conn::Direct(c, epoch))
            }
            Link::Cluster(c) => lock(c).clone().map(Conn::Cluster).ok_or_else(closed),
        }
    }

    /// Sends `cmd` on `conn`, dropping a direct connection that broke.
    pub(crate) async fn send(&self, conn: &mut Conn, cmd: &Cmd) -> RedisResult<Value> {
        let result = match conn {
            Conn::Direct(c, _) => c.send_packed_command(cmd).await,
            // Routed by the script's one key (EVALSHA's third argument).
            Conn::Cluster(c) => c.req_packed_command(cmd).await,
        };
        // An error reply arrives as a value; only the top level can be one for our scripts.
        let result = match result {
            Ok(Value::ServerError(e)) => Err(e.into()),
            other => other,
        };
        if let Err(e) = &result {
            if breaks_connection(e) {
                self.broken(conn);
            }
        }
        result
    }

    /// Forgets `conn` (a request on it timed out or failed), so the next request reconnects.
    pub(crate) fn broken(&self, conn: &Conn) {
        if let (Link::Direct(d), Conn::Direct(_, epoch)) = (self, conn) {
            let mut current = lock(&d.current);
            if matches!(&*current, Some((_, e)) if e == epoch) {
                *current = None;
            }
        }
    }

    /// Drops every connection; later requests answer an error.
    pub(crate) fn close(&self) {
        match self {
            Link::Direct(d) => {
                d.closed.store(true, Ordering::Release);
                *lock(&d.current) = None;
            }
            Link::Cluster(c) => *lock(c) = None,
        }
    }

    /// After `close`: drops the sentinel clients too, which keep a connection to the last
    /// sentinel they asked. Waits for a connect in progress (it then sees `closed`).
    pub(crate) async fn release(&self) {
        if let Link::Direct(d) = self {
            let mut source = d.source.lock().await;
            if let Source::Sentinel(sentinels) = &mut source.0 {
                sentinels.each.clear();
            }
        }
    }
}

impl Direct {
    async fn connect(&self) -> RedisResult<(MultiplexedConnection, u64)> {
        let mut source = self.source.lock().await;
        // Another caller may have connected while this one waited.
        if let Some((c, epoch)) = &*lock(&self.current) {
            return Ok((c.clone(), *epoch));
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let client = match &mut source.0 {
            Source::Fixed(client) => client.clone(),
            Source::Sentinel(sentinels) => sentinels.master().await?,
        };
        let conn = client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        source.1 += 1;
        let epoch = source.1;
        let mut current = lock(&self.current);
        // A close that came while connecting wins: the new connection is not kept.
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        *current = Some((conn.clone(), epoch));
        Ok((conn, epoch))
    }
}

// A panic while one of these locks was held cannot leave its Option half-written.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
