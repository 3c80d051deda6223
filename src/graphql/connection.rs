//! The one cursor-connection pattern: keyset pagination on the UUID v7 primary key (which is in
//! creation order), `first/after/last/before`, at most 100 a page, `totalCount` computed only when
//! a client asks for it.

use async_graphql::{
    Object, OutputType,
    connection::{Connection, CursorType, Edge},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Expr, Query, QueryStatementBuilder, SelectStatement},
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const MAX_PAGE_SIZE: i32 = 100;
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// What a connection field costs in the complexity limit: the rows it may read (its page size)
/// times what is selected of each, so that nested pages multiply as the rows read do.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let page = first.or(last).unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    1 + (page as usize).saturating_mul(child_complexity.max(1))
}

/// A cursor's text as clients see it: `prefix` and `payload`, base64url without padding.
pub fn encode_opaque(prefix: &str, payload: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{prefix}{payload}"))
}

/// The payload of a cursor made by `encode_opaque` with `prefix`; none for anything else.
pub fn decode_opaque(prefix: &str, cursor: &str) -> Option<String> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    text.strip_prefix(prefix).map(str::to_string)
}

/// An opaque position: the key of the row it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeysetCursor(pub Uuid);

impl CursorType for KeysetCursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode_opaque("k1:", s)
            .and_then(|id| Uuid::parse_str(&id).ok())
            .map(KeysetCursor)
            .ok_or_else(|| "is not a cursor from this API".to_string())
    }

    fn encode_cursor(&self) -> String {
        encode_opaque("k1:", &self.0.as_simple().to_string())
    }
}

/// The page a client asks for, straight from the field arguments.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    /// Whether the client selected `totalCount`: then the count runs beside the page, not after
    /// it (one round trip less on the way to the answer).
    pub total: bool,
}

impl PageArgs {
    /// The arguments of the connection field `ctx` resolves.
    pub fn of(
        ctx: &async_graphql::Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        let total = ctx.look_ahead().field("totalCount").exists();
        PageArgs { first, after, last, before, total }
    }
}

/// The fields every connection adds beside `edges`, `nodes` and `pageInfo`.
pub struct ConnectionTotals {
    db: DatabaseConnection,
    all: SelectStatement,
    /// The count, when it was taken beside the page.
    counted: Option<i64>,
}

#[Object]
impl ConnectionTotals {
    /// How many items the whole list has (costs one count query; ask only when needed).
    async fn total_count(&self) -> async_graphql::Result<i64> {
        match self.counted {
            Some(n) => Ok(n),
            None => Ok(count(&self.db, &self.all).await?),
        }
    }
}

/// Counts the rows of the scoped select a service built.
async fn count(db: &DatabaseConnection, all: &SelectStatement) -> AppResult<i64> {
    let count = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(all.clone(), Alias::new("t"))
        .to_owned();
    // The select is the service's, under its scope.
    #[allow(clippy::disallowed_methods)]
    let row = db.query_one(&count).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

/// The page and its count in one statement: the count rides along as an uncorrelated scalar
/// subquery, which both databases evaluate once. Only an empty page after a cursor, which cannot
/// carry it, costs a second statement.
async fn page_with_count<E>(
    db: &DatabaseConnection,
    mut page: SelectStatement,
    all: &SelectStatement,
    has_cursor: bool,
) -> AppResult<(Vec<E::Model>, Option<i64>)>
where
    E: EntityTrait,
    E::Model: FromQueryResult,
{
    const TOTAL: &str = "total_count_";
    let total = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(all.clone(), Alias::new("t"))
        .to_owned()
        .into_sub_query_statement();
    page.expr_as(Expr::SubQuery(None, Box::new(total)), Alias::new(TOTAL));
    // The select is the service's, under its scope.
    #[allow(clippy::disallowed_methods)]
    let results = db.query_all(&page).await?;
    let counted = results.first().map(|r| r.try_get::<i64>("", TOTAL)).transpose()?;
    let rows = results.iter().map(|r| E::Model::from_query_result(r, "")).collect::<Result<Vec<_>, _>>()?;
    let n = match counted {
        Some(n) => n,
        None if has_cursor => count(db, all).await?,
        None => 0,
    };
    Ok((rows, Some(n)))
}

pub type Page<N> = Connection<KeysetCursor, N, ConnectionTotals>;

fn size(name: &str, value: i32) -> AppResult<u64> {
    if !(0..=MAX_PAGE_SIZE).contains(&value) {
        return Err(AppError::bad_input(name, format!("must be between 0 and {MAX_PAGE_SIZE}")));
    }
    Ok(value as u64)
}

fn cursor(name: &str, value: Option<&str>) -> AppResult<Option<Uuid>> {
    value.map(|v| KeysetCursor::decode_cursor(v).map(|c| c.0).map_err(|m| AppError::bad_input(name, m))).transpose()
}

/// Runs one page of `select` (already scoped by the policy) and wraps each row with `wrap`.
/// Costs one statement, plus one for `totalCount` when it is selected.
pub async fn paginate<E, N>(
    db: &DatabaseConnection,
    select: Select<E>,
    key: E::Column,
    key_of: impl Fn(&E::Model) -> Uuid,
    wrap: impl Fn(E::Model) -> N,
    args: PageArgs,
) -> AppResult<Page<N>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    N: OutputType,
{
    if args.first.is_some() && args.last.is_some() {
        return Err(AppError::bad_input("last", "give either first or last, not both"));
    }
    let after = cursor("after", args.after.as_deref())?;
    let before = cursor("before", args.before.as_deref())?;
    let backward = args.last.is_some() || (args.first.is_none() && before.is_some());
    let limit = match (args.first, args.last) {
        (Some(n), _) => size("first", n)?,
        (_, Some(n)) => size("last", n)?,
        _ => DEFAULT_PAGE_SIZE as u64,
    };

    let all = select.clone().into_query();
    let mut page = select;
    if let Some(after) = after {
        page = page.filter(key.gt(after));
    }
    if let Some(before) = before {
        page = page.filter(key.lt(before));
    }
    page = if backward { page.order_by_desc(key) } else { page.order_by_asc(key) };
    let page = page.limit(limit + 1);
    let (mut rows, counted) = if args.total {
        page_with_count::<E>(db, page.into_query(), &all, after.is_some() || before.is_some()).await?
    } else {
        (page.all(db).await?, None)
    };
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if backward {
        rows.reverse();
    }
    // Relay lets a server answer false when it cannot tell cheaply; a cursor on the other side
    // means the client came from there, so there is a page that way.
    let (has_previous, has_next) = if backward { (more, before.is_some()) } else { (after.is_some(), more) };
    let mut connection =
        Connection::with_additional_fields(has_previous, has_next, ConnectionTotals { db: db.clone(), all, counted });
    connection.edges.extend(rows.into_iter().map(|row| Edge::new(KeysetCursor(key_of(&row)), wrap(row))));
    Ok(connection)
}

/// A first page (no cursor, `first` or the default size) from rows already loaded, at most
/// `size + 1` in key order (a nested list batched over its parents); `all` is the list's whole
/// scoped select, counted only if `totalCount` is asked for.
pub fn first_page_of<M, N: OutputType>(
    db: &DatabaseConnection,
    mut rows: Vec<M>,
    size: u64,
    all: SelectStatement,
    key_of: impl Fn(&M) -> Uuid,
    wrap: impl Fn(M) -> N,
) -> Page<N> {
    let more = rows.len() as u64 > size;
    rows.truncate(size as usize);
    let mut connection =
        Connection::with_additional_fields(false, more, ConnectionTotals { db: db.clone(), all, counted: None });
    connection.edges.extend(rows.into_iter().map(|row| Edge::new(KeysetCursor(key_of(&row)), wrap(row))));
    connection
}

/// The page size a first page without cursors asks for, or `None` when the arguments ask for
/// something else (a cursor, `last`) that only `paginate` answers.
pub fn plain_first_page(args: &PageArgs) -> AppResult<Option<u64>> {
    if args.after.is_some() || args.before.is_some() || args.last.is_some() {
        return Ok(None);
    }
    Ok(Some(match args.first {
        Some(n) => size("first", n)?,
        None => DEFAULT_PAGE_SIZE as u64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = KeysetCursor(Uuid::now_v7());
        assert_eq!(KeysetCursor::decode_cursor(&c.encode_cursor()), Ok(c));
        assert!(KeysetCursor::decode_cursor("abc").is_err());
        assert!(KeysetCursor::decode_cursor(&URL_SAFE_NO_PAD.encode("k2:x")).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert!(size("first", 100).is_ok());
        assert!(size("first", 101).is_err());
        assert!(size("first", -1).is_err());
    }
}
