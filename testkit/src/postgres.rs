//! A database of the test's own on the shared test Postgres (`TEST_DATABASE_URL`), created
//! fresh and dropped (with its connections) when the test is done, and a bounded connect.

use std::time::Duration;

use crate::settings::admin_database_url;

/// A fresh database, dropped on drop. Create it with `create` inside a runtime or with
/// `create_blocking` from a plain thread.
pub struct TestDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let database = Self::named();
        let sql = format!("CREATE DATABASE {}", database.name);
        admin_sql(&database.admin_url, &sql)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "creating a database on TEST_DATABASE_URL={}: {e}",
                    database.admin_url
                )
            });
        database
    }

    pub fn create_blocking() -> Self {
        let database = Self::named();
        let sql = format!("CREATE DATABASE {}", database.name);
        on_own_runtime(admin_sql(&database.admin_url, &sql)).unwrap_or_else(|e| {
            panic!(
                "creating a database on TEST_DATABASE_URL={}: {e}",
                database.admin_url
            )
        });
        database
    }

    fn named() -> Self {
        Self {
            admin_url: admin_database_url(),
            name: format!("test_{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The URL of this database (the admin URL with its database name replaced).
    pub fn url(&self) -> String {
        let base = self
            .admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&self.admin_url);
        format!("{base}/{}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let admin_url = self.admin_url.clone();
        // Drop may run inside a runtime, where blocking on another is not allowed: the
        // statement runs on a thread with a runtime of its own.
        let _ = std::thread::spawn(move || on_own_runtime(admin_sql(&admin_url, &sql))).join();
    }
}

/// Runs one statement on the admin database.
async fn admin_sql(admin_url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    client.batch_execute(sql).await
}

/// Runs `work` to completion on a fresh current-thread runtime.
fn on_own_runtime<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(work)
}

/// Connects within 3 s, or `None` (Postgres may be down on purpose).
pub async fn connect_db(url: &str) -> Option<tokio_postgres::Client> {
    let (client, conn) = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_postgres::connect(url, tokio_postgres::NoTls),
    )
    .await
    .ok()?
    .ok()?;
    tokio::spawn(conn);
    Some(client)
}
