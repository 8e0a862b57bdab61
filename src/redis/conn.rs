//! Connections. A standalone or Sentinel link is one [`Pipe`]: a blocking connection that
//! the calling threads share and pipeline on, dialled again after it failed (asking the
//! sentinels for the current master each time). A cluster link is redis-rs's async cluster
//! connection, which follows slot moves and failovers, driven by the backend's runtime.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::redis::aio::ConnectionLike;
use ::redis::cluster::ClusterClientBuilder;
use ::redis::cluster_async::ClusterConnection;
use ::redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use ::redis::{
    Client, Cmd, ConnectionAddr, IntoConnectionInfo, RedisResult, ServerErrorKind, TlsMode, Value,
};
use rustls::ClientConfig;
use tokio::runtime::Runtime;

use super::pipe::Pipe;
use super::wire::{timed_out, tls_config, Endpoint, Login, Wire};
use super::{block_on, bounded, closed, lock};
use crate::config::{RedisConfig, RedisTopology};

/// Where a standalone or Sentinel link dials.
// One per backend, so the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Source {
    Fixed(Endpoint),
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

/// A standalone or Sentinel link: the shared pipe and how to dial it.
pub(crate) struct Direct {
    pipe: Pipe,
    // Only the pipe's leader dials, one at a time: the lock is never contended.
    source: Mutex<Source>,
    login: Login,
    tls: Option<Arc<ClientConfig>>,
}

/// The connection of one backend.
// One per backend, so the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Link {
    Direct(Direct),
    Cluster(Mutex<Option<ClusterConnection>>),
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

/// The master a sentinel named.
fn endpoint_of(client: &Client) -> RedisResult<Endpoint> {
    match client.get_connection_info().addr() {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            Ok(Endpoint {
                host: host.clone(),
                port: *port,
            })
        }
        other => Err(::redis::RedisError::from((
            ::redis::ErrorKind::Client,
            "a sentinel named a master that is not a TCP address",
            format!("{other:?}"),
        ))),
    }
}

impl Link {
    /// Builds the link for `cfg` and makes its first connection, within `timeout`.
    pub(crate) fn open(cfg: &RedisConfig, timeout: Duration, rt: &Runtime) -> RedisResult<Link> {
        let deadline = Instant::now() + timeout;
        if cfg.tls {
            // redis-rs leaves the choice of crypto to the application; another provider
            // installed first by the host process is fine too.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let source = match cfg.topology {
            RedisTopology::Standalone => {
                let (host, port) = &cfg.nodes[0];
                Source::Fixed(Endpoint {
                    host: host.clone(),
                    port: *port,
                })
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
                let client = b.build()?;
                let conn = block_on(rt, bounded(timeout, client.get_async_connection()))
                    .map_err(|_| timed_out())??;
                return Ok(Link::Cluster(Mutex::new(Some(conn))));
            }
        };
        let direct = Direct {
            pipe: Pipe::new(),
            source: Mutex::new(source),
            login: Login {
                username: cfg.username.clone(),
                password: cfg.password.clone(),
                db: cfg.db,
            },
            tls: if cfg.tls { Some(tls_config()?) } else { None },
        };
        // Dials, logs in, and proves the server answers.
        let ping = |_: bool, packed: &mut Vec<u8>| {
            ::redis::cmd("PING").write_packed_command(packed);
        };
        let reply = direct.request(1, deadline, rt, ping)?;
        if let Some(Value::ServerError(e)) = reply.into_iter().next() {
            return Err(e.into());
        }
        Ok(Link::Direct(direct))
    }

    /// Sends `cmd` through the cluster connection; an error reply is an `Err`.
    pub(crate) async fn send_cluster(&self, cmd: &Cmd) -> RedisResult<Value> {
        let Link::Cluster(c) = self else {
            return Err(::redis::RedisError::from((
                ::redis::ErrorKind::Client,
                "not a cluster link",
            )));
        };
        let mut conn = lock(c).clone().ok_or_else(closed)?;
        // Routed by the script's one key (EVALSHA's third argument).
        match conn.req_packed_command(cmd).await {
            Ok(Value::ServerError(e)) => Err(e.into()),
            other => other,
        }
    }

    /// Drops every connection; later requests answer an error. Also drops the sentinel
    /// clients, which keep a connection to the last sentinel they asked.
    pub(crate) fn close(&self) {
        match self {
            Link::Direct(d) => {
                d.pipe.close();
                if let Source::Sentinel(sentinels) = &mut *lock(&d.source) {
                    sentinels.each.clear();
                }
            }
            Link::Cluster(c) => *lock(c) = None,
        }
    }
}

impl Direct {
    /// Sends the `expect` commands `pack(false, …)` writes on the shared pipe, and sends them
    /// again as `pack(true, …)` writes them (EVAL with the script's body) when a reply says
    /// the server does not know a script; their replies by `deadline`.
    pub(crate) fn request(
        &self,
        expect: usize,
        deadline: Instant,
        rt: &Runtime,
        pack: impl Fn(bool, &mut Vec<u8>),
    ) -> RedisResult<Vec<Value>> {
        let send = |full: bool| {
            let mut packed = Vec::new();
            pack(full, &mut packed);
            self.pipe
                .request(&packed, expect, deadline, &|d| self.dial(d, rt))
        };
        let replies = send(false)?;
        let unknown_script = |v: &Value| matches!(v, Value::ServerError(e) if e.kind() == Some(ServerErrorKind::NoScript));
        if replies.iter().any(unknown_script) {
            send(true)
        } else {
            Ok(replies)
        }
    }

    fn dial(&self, deadline: Instant, rt: &Runtime) -> RedisResult<Wire> {
        let to = match &mut *lock(&self.source) {
            Source::Fixed(to) => to.clone(),
            Source::Sentinel(sentinels) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let client =
                    block_on(rt, bounded(left, sentinels.master())).map_err(|_| timed_out())??;
                endpoint_of(&client)?
            }
        };
        Wire::dial(&to, &self.login, self.tls.as_ref(), deadline)
    }
}
