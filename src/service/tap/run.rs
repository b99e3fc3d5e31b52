//! Running a compiled query and streaming its rows: as the read-only query role, with the
//! job's statement timeout, rows encoded by the result writer as they arrive and sent on in
//! chunks. Memory holds a few messages and one chunk, whatever the size of the result.

use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Row;

use crate::adql::{ResultColumn, ValueType};
use crate::votable::{Cell, DocumentInfo, End, Format, ResultWriter};

/// Bytes collected before a chunk goes to the client.
const CHUNK_BYTES: usize = 64 * 1024;

/// A query ready to run.
pub struct Execution {
    pub sql: String,
    pub columns: Vec<ResultColumn>,
    pub maxrec: u64,
    pub format: Format,
    pub info: DocumentInfo,
    pub timeout: Duration,
    /// Uploaded tables the query reads, dropped (through the pool) when it ends.
    pub uploads: Option<(super::upload::LoadedUploads, deadpool_postgres::Pool)>,
}

/// Why a query failed before its result began.
#[derive(Debug, Clone)]
pub enum ExecError {
    /// The query itself cannot run (bad value, timeout): the user's to fix. HTTP 400.
    Query(String),
    /// The service could not run it (database unavailable): HTTP 500/503.
    Service(String),
}

impl ExecError {
    pub fn message(&self) -> &str {
        match self {
            ExecError::Query(m) | ExecError::Service(m) => m,
        }
    }
}

/// How a streamed result ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub rows: u64,
    pub end: End,
}

/// A running query: its result document as a stream of chunks, how it ended (once the body
/// has been consumed), and a handle to cancel it in the database.
pub struct Started<S> {
    pub body: S,
    pub outcome: oneshot::Receiver<Outcome>,
    pub cancel: tokio_postgres::CancelToken,
}

/// Starts the query; once its first rows are there (or it has ended), returns the body.
pub async fn start(
    pool: &deadpool_postgres::Pool,
    mut execution: Execution,
) -> Result<Started<impl Stream<Item = Result<Bytes, std::io::Error>> + use<>>, ExecError> {
    let uploads = execution.uploads.take();
    let client = match pool.get().await {
        Ok(c) => c,
        Err(e) => {
            if let Some((uploads, admin)) = uploads {
                uploads.drop_schema(&admin).await;
            }
            return Err(ExecError::Service(format!("the catalogue database is not available: {e}")));
        }
    };
    let cancel = client.cancel_token();
    let (ready_tx, ready_rx) = oneshot::channel::<Result<(), ExecError>>();
    let (outcome_tx, outcome_rx) = oneshot::channel::<Outcome>();
    let (body_tx, body_rx) = mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let mut client = client;
        let outcome = produce(&mut client, execution, ready_tx, body_tx).await;
        // The uploads go before the outcome is told: whoever waits for it may drop the pool.
        drop(client);
        if let Some((uploads, admin)) = uploads {
            uploads.drop_schema(&admin).await;
        }
        if let Some(outcome) = outcome {
            let _ = outcome_tx.send(outcome);
        }
    });
    match ready_rx.await {
        Ok(Ok(())) => Ok(Started {
            body: futures_util::stream::unfold(body_rx, |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) }),
            outcome: outcome_rx,
            cancel,
        }),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(ExecError::Service("internal error: the query task ended unexpectedly".into())),
    }
}

/// The user-facing text of a database error.
pub fn database_message(error: &tokio_postgres::Error, timeout: Duration) -> ExecError {
    match error.as_db_error() {
        Some(db) if db.code().code() == "57014" => ExecError::Query(format!(
            "the query ran longer than its execution duration of {} s and was cancelled; restrict it (TOP, a smaller region) or run it asynchronously",
            timeout.as_secs()
        )),
        Some(db) if db.code().code().starts_with("22") || db.code().code().starts_with("42") => {
            ExecError::Query(format!("the query failed in the database: {}", db.message()))
        }
        Some(db) => ExecError::Service(format!("the database failed: {} ({})", db.message(), db.code().code())),
        None => ExecError::Service(format!("the database connection failed: {error}")),
    }
}

/// Runs the query into `body`; None when it never started (the error went to `ready`) or
/// the reader went away.
///
/// One round trip starts it: the statement timeout is set, then the query is sent as one
/// Parse/Bind/Describe/Execute (query_typed_raw) and its rows stream back while they are
/// encoded, PostgreSQL and the writer working at the same time. tokio-postgres hands rows over
/// through a channel of one message batch, so a slow reader holds the socket back and memory
/// stays bounded. The query role's transactions are read-only by default (schema/001).
async fn produce(
    client: &mut deadpool_postgres::Object,
    execution: Execution,
    ready: oneshot::Sender<Result<(), ExecError>>,
    body: mpsc::Sender<Bytes>,
) -> Option<Outcome> {
    let timeout = execution.timeout;
    let fail = |e: tokio_postgres::Error| database_message(&e, timeout);
    let setup = format!("SET statement_timeout = {}", timeout.as_millis().max(1));
    if let Err(e) = client.batch_execute(&setup).await {
        let _ = ready.send(Err(fail(e)));
        return None;
    }
    let no_params: Vec<(&(dyn tokio_postgres::types::ToSql + Sync), tokio_postgres::types::Type)> = Vec::new();
    let rows = match client.query_typed_raw(&execution.sql, no_params).await {
        Ok(rows) => rows,
        Err(e) => {
            let _ = ready.send(Err(fail(e)));
            return None;
        }
    };
    let mut rows = std::pin::pin!(rows);
    // The first row (or the end, or an error) decides between an error document and a result.
    let first = match rows.next().await {
        Some(Err(e)) => {
            let _ = ready.send(Err(fail(e)));
            return None;
        }
        other => other,
    };
    if ready.send(Ok(())).is_err() {
        cancel(client, rows.as_mut()).await;
        return None;
    }
    let mut writer = ResultWriter::new(execution.format, &execution.columns, &execution.info);
    let mut cells: Vec<Cell> = Vec::with_capacity(execution.columns.len());
    let mut written: u64 = 0;
    let mut next = first;
    // The SQL fetches at most MAXREC + 1 rows: a row beyond MAXREC means the result was
    // truncated (OVERFLOW), rows up to MAXREC exactly do not (VO-INTEROP mistake 7).
    let end = loop {
        let row = match next {
            None => break End::Complete,
            Some(Err(e)) => break End::Error(fail(e).message().to_string()),
            Some(Ok(row)) => row,
        };
        if written == execution.maxrec {
            break End::Overflow;
        }
        if let Err(e) = decode_row(&row, &execution.columns, &mut cells) {
            break End::Error(format!("cannot read a result row: {e}"));
        }
        writer.write_row(&cells);
        written += 1;
        if writer.buffered() >= CHUNK_BYTES && body.send(Bytes::from(writer.take_chunk())).await.is_err() {
            // The reader went away: stop the query rather than let it run to the end.
            cancel(client, rows.as_mut()).await;
            return None;
        }
        next = rows.next().await;
    };
    if end == End::Overflow {
        // The SQL's LIMIT is MAXREC + 1, so the stream is at its last message: read it so the
        // connection goes back to the pool idle. (A finished stream must not be polled again:
        // it then reports its closed channel as an error forever.)
        while let Some(Ok(_)) = rows.next().await {}
    }
    let _ = body.send(Bytes::from(writer.finish(end.clone()))).await;
    Some(Outcome { rows: written, end })
}

/// Cancels the running query (its result is not wanted any more) and reads the stream to
/// its end, so that the connection goes back to the pool only once the query is over: a
/// cancel request arriving late can then find the backend idle (where PostgreSQL ignores it),
/// never in the middle of the next user's query.
async fn cancel(client: &deadpool_postgres::Object, mut rows: std::pin::Pin<&mut tokio_postgres::RowStream>) {
    let _ = client.cancel_token().cancel_query(tokio_postgres::NoTls).await;
    while let Some(Ok(_)) = rows.next().await {}
}

/// Decodes one row into cells, by the column types the SQL cast them to.
pub fn decode_row(row: &Row, columns: &[ResultColumn], cells: &mut Vec<Cell>) -> Result<(), tokio_postgres::Error> {
    cells.clear();
    for (i, column) in columns.iter().enumerate() {
        let cell = match column.value_type {
            ValueType::Boolean => row.try_get::<_, Option<bool>>(i)?.map_or(Cell::Null, Cell::Boolean),
            ValueType::SmallInt => row.try_get::<_, Option<i16>>(i)?.map_or(Cell::Null, Cell::Short),
            ValueType::Integer => row.try_get::<_, Option<i32>>(i)?.map_or(Cell::Null, Cell::Int),
            ValueType::BigInt => row.try_get::<_, Option<i64>>(i)?.map_or(Cell::Null, Cell::Long),
            ValueType::Real => row.try_get::<_, Option<f32>>(i)?.map_or(Cell::Null, Cell::Float),
            ValueType::Double => row.try_get::<_, Option<f64>>(i)?.map_or(Cell::Null, Cell::Double),
            ValueType::String | ValueType::Null => row.try_get::<_, Option<String>>(i)?.map_or(Cell::Null, Cell::Text),
            ValueType::Timestamp => row.try_get::<_, Option<chrono::NaiveDateTime>>(i)?.map_or(Cell::Null, Cell::Timestamp),
            ValueType::RealArray => row.try_get::<_, Option<Vec<Option<f32>>>>(i)?.map_or(Cell::Null, Cell::FloatArray),
            ValueType::Point | ValueType::Circle | ValueType::Polygon | ValueType::DoubleArray => {
                row.try_get::<_, Option<Vec<Option<f64>>>>(i)?.map_or(Cell::Null, Cell::DoubleArray)
            }
        };
        cells.push(cell);
    }
    Ok(())
}
