//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, one
//! lane), with a hard memory bound.
//!
//! Why not the blocking pool: each hash needs its parameters' worth of memory (19 MiB).
//! Allocated per hash on tokio's many blocking threads, glibc serves those blocks from
//! per-thread arenas that keep freed memory, and a burst of logins grew the process by
//! over a GB that came back only slowly. Here hashing runs on [`Hasher`]'s few dedicated
//! threads (`API_HASH_THREADS`, default 2), each allocating one Argon2 memory block on its
//! first job and reusing it for every hash after: the memory hashing can ever hold is
//! `threads × 19 MiB`, whatever the load. A request waits up to [`QUEUE_WAIT`] for a
//! thread, then gets 503 `busy`.
//!
//! Stored hashes stay standard PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`) and are
//! verified with the parameters they name; one that needs more memory than a thread holds
//! (never written by this service) is an internal error, not an allocation.
//! Per-process: each api process (and the all-in-one server) has its own threads.

use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::error::ApiError;

/// How long a request waits for a hashing thread before 503.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// A job for a hashing thread, given that thread's reusable memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The hashing threads. Dropping it ends them (and frees their memory).
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// One per thread: a job is sent only with a permit, so the queue never grows.
    permits: tokio::sync::Semaphore,
}

impl Hasher {
    /// Starts `threads` hashing threads (at least one).
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || work(&queue))
                .expect("starting a password hashing thread");
        }
        Self {
            jobs,
            permits: tokio::sync::Semaphore::new(threads),
        }
    }

    /// A PHC string of `password` under a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| hash_with(memory, password.as_bytes()))
            .await
    }

    /// Checks `password` against `stored`; with no stored hash (unknown user) it hashes
    /// anyway so that the answer takes as long either way.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        self.run(move |memory| match stored {
            Some(stored) => verify_with(memory, password.as_bytes(), &stored),
            None => {
                let salt =
                    SaltString::from_b64("bm90IGEgcmVhbCBzYWx0").map_err(ApiError::internal)?;
                compute(
                    memory,
                    password.as_bytes(),
                    &salt,
                    &Params::default(),
                    Algorithm::Argon2id,
                    Version::V0x13,
                    Params::DEFAULT_OUTPUT_LEN,
                )?;
                Ok(false)
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = match tokio::time::timeout(QUEUE_WAIT, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                return Err(ApiError::unavailable(
                    "busy",
                    "too many sign-ins at once; retry shortly",
                ))
            }
        };
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(job(memory));
        });
        self.jobs.send(job).map_err(ApiError::internal)?;
        answer.await.map_err(ApiError::internal)?
    }
}

fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        // The lock is held only while waiting for the next job, not while hashing.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let output = compute(
        memory,
        password,
        &salt,
        &params,
        Algorithm::Argon2id,
        Version::V0x13,
        Params::DEFAULT_OUTPUT_LEN,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> Result<bool, ApiError> {
    let parsed = PasswordHash::new(stored).map_err(ApiError::internal)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(ApiError::internal)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(ApiError::internal)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(ApiError::internal)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(ApiError::internal(
            "stored password hash has no salt or output",
        ));
    };
    let salt = SaltString::from_b64(salt.as_str()).map_err(ApiError::internal)?;
    let computed = compute(
        memory,
        password,
        &salt,
        &params,
        algorithm,
        version,
        expected.len(),
    )?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

/// One Argon2 computation in the thread's memory, grown once to the parameters' size.
fn compute(
    memory: &mut Vec<Block>,
    password: &[u8],
    salt: &SaltString,
    params: &Params,
    algorithm: Algorithm,
    version: Version,
    output_len: usize,
) -> Result<Output, ApiError> {
    let blocks = params.block_count();
    if blocks > Params::default().block_count() {
        return Err(ApiError::internal(
            "stored password hash needs more memory than the hashing bound",
        ));
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(ApiError::internal)?;
    let argon = Argon2::new(algorithm, version, params.clone());
    Output::init_with(output_len, |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .map_err(argon2::password_hash::Error::from)
    })
    .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_both_ways() {
        let hasher = Hasher::new(1);
        let ours = hasher.hash("correct horse".into()).await.unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(hasher
            .verify("battery staple".into(), Some(theirs.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify("battery stable".into(), Some(theirs))
            .await
            .unwrap());
        assert!(!hasher.verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_needing_more_memory_than_the_bound_are_refused() {
        let hasher = Hasher::new(1);
        let big = Params::new(64 * 1024, 1, 1, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, big)
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        assert!(hasher.verify("pw".into(), Some(stored)).await.is_err());
    }
}
