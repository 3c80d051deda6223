//! What a request is refused for before it runs, each with its own code, so that a client can
//! tell a broken document from bad input: `GRAPHQL_PARSE_FAILED` (one line, with where),
//! `GRAPHQL_VALIDATION_FAILED` (including the depth and complexity limits, an `Int` literal out
//! of range and introspection when it is off) and `BAD_USER_INPUT` for a variable's value that
//! does not fit its argument.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ErrorExtensionValues, Request, Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextValidation,
    },
    parser::{
        Pos, Positioned,
        types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
    },
    registry::{MetaType, MetaTypeName, Registry},
};

use async_graphql_value::Value;

use crate::error::code;

/// The schema extension; `introspection` is the `PARTNERHUB_INTROSPECTION` setting.
pub struct RequestChecks {
    pub introspection: bool,
}

impl ExtensionFactory for RequestChecks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Checks {
            introspection: self.introspection,
            operation_name: Default::default(),
            from_variables: Default::default(),
        })
    }
}

struct Checks {
    introspection: bool,
    /// The operation the request names, to know which variables it needs.
    operation_name: std::sync::Mutex<Option<String>>,
    /// Where the variable definitions (with their names) and the arguments whose value holds a
    /// variable are: a validation error there is the variable's value, not the document.
    from_variables: std::sync::Mutex<HashMap<Pos, String>>,
}

pub fn error(message: impl Into<String>, pos: Option<Pos>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, pos);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for Checks {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Ok(mut name) = self.operation_name.lock() {
            name.clone_from(&request.operation_name);
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = match next.run(ctx, query, variables).await {
            Ok(document) => document,
            Err(err) => return Err(parse_failed(query, err)),
        };
        let mut walk = Walk { registry: &ctx.schema_env.registry, found: Found::default(), fragments: Vec::new() };
        for (_, operation) in document.operations.iter() {
            let root = match operation.node.ty {
                async_graphql::parser::types::OperationType::Query => Some(walk.registry.query_type.as_str()),
                async_graphql::parser::types::OperationType::Mutation => walk.registry.mutation_type.as_deref(),
                async_graphql::parser::types::OperationType::Subscription => walk.registry.subscription_type.as_deref(),
            };
            walk.selection_set(&document, root, &operation.node.selection_set);
        }
        let Found { introspection, out_of_range, mut from_variables } = walk.found;
        if let Some(pos) = introspection.filter(|_| !self.introspection) {
            return Err(error(
                "introspection is turned off on this server; the schema is published as schema.graphql",
                Some(pos),
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        if let Some((pos, argument)) = out_of_range {
            return Err(error(
                format!("argument \"{argument}\": an Int is a 32-bit integer, from -2147483648 to 2147483647"),
                Some(pos),
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        let operation_name = self.operation_name.lock().ok().and_then(|n| n.clone());
        let operation = match (&document.operations, operation_name) {
            (DocumentOperations::Single(op), _) => Some(op),
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name.as_str()),
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
            _ => None,
        };
        for definition in operation.map(|op| op.node.variable_definitions.as_slice()).unwrap_or_default() {
            let name = definition.node.name.node.to_string();
            let required = !definition.node.var_type.node.nullable && definition.node.default_value.is_none();
            let given =
                variables.get(&definition.node.name.node).is_some_and(|v| !matches!(v, async_graphql::Value::Null));
            if required && !given {
                let mut err = error(
                    format!("variable ${name} is required ({})", definition.node.var_type.node),
                    Some(definition.pos),
                    code::BAD_USER_INPUT,
                );
                if let Some(extensions) = err.extensions.as_mut() {
                    extensions.set("field", name);
                }
                return Err(err);
            }
            from_variables.insert(definition.pos, name);
        }
        if let Ok(mut positions) = self.from_variables.lock() {
            *positions = from_variables;
        }
        Ok(document)
    }

    /// Input objects sent in variables are converted when a resolver reads its arguments: a
    /// value that does not convert then is the client's input (`BAD_USER_INPUT`, naming the
    /// variable), not a fault of ours.
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let from_variables = self.from_variables.lock().map(|p| p.clone()).unwrap_or_default();
        for error in &mut response.errors {
            if error.extensions.as_ref().is_some_and(|x| x.get("code").is_some()) || !about_a_value(&error.message) {
                continue;
            }
            let field = invalid_argument(&error.message)
                .or_else(|| input_field(&ctx.schema_env.registry, &error.message))
                .or_else(|| error.locations.iter().find_map(|pos| from_variables.get(pos)).cloned())
                .filter(|f| !f.is_empty());
            let mut extensions = ErrorExtensionValues::default();
            extensions.set("code", code::BAD_USER_INPUT);
            if let Some(field) = field {
                extensions.set("field", field);
            }
            error.extensions = Some(extensions);
        }
        response
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            let from_variables = self.from_variables.lock().map(|p| p.clone()).unwrap_or_default();
            let mut out: Vec<ServerError> = Vec::with_capacity(errors.len());
            for error in errors.into_iter().map(|e| classify_validation(e, &from_variables)) {
                // Some rules report the same fault twice.
                if !out.iter().any(|o| o.message == error.message && o.locations == error.locations) {
                    out.push(error);
                }
            }
            out
        })
    }
}

/// Whether an engine message is about a value that did not convert to its input type.
fn about_a_value(message: &str) -> bool {
    ["Invalid value", "Failed to parse", "Expected input type", "Variable"].iter().any(|p| message.starts_with(p))
}

/// A validation error is the document's fault, unless it is an argument whose value came from a
/// variable: then the client's input was wrong, and the error names the field.
fn classify_validation(mut error: ServerError, from_variables: &HashMap<Pos, String>) -> ServerError {
    if error.extensions.as_ref().is_some_and(|x| x.get("code").is_some()) {
        return error;
    }
    let mut extensions = ErrorExtensionValues::default();
    let at_variable = error.locations.iter().find_map(|pos| from_variables.get(pos));
    let field = invalid_argument(&error.message).or_else(|| at_variable.filter(|v| !v.is_empty()).cloned());
    // Only a fault in a value can be the variable's; "must have a selection" at the same field
    // is still the document's.
    let by_variable = at_variable.is_some() && about_a_value(&error.message);
    if by_variable {
        extensions.set("code", code::BAD_USER_INPUT);
    } else {
        extensions.set("code", code::GRAPHQL_VALIDATION_FAILED);
    }
    if let Some(field) = field {
        extensions.set("field", field);
    }
    error.extensions = Some(extensions);
    error
}

/// The input field an argument error names (`Invalid value for argument "input.kind"` names
/// `kind`), so that a bad enum value or scalar names its field like the services do.
pub fn invalid_argument(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Invalid value for argument \"")?;
    // `…argument "input", field "idempotencyKey" of type "String!" is required…`
    if let Some((_, after)) = rest.split_once(", field \"") {
        return after.split('"').next().filter(|f| !f.is_empty()).map(str::to_string);
    }
    let path = rest.split('"').next()?;
    let field = path.strip_prefix("input.").unwrap_or(path);
    (!field.is_empty()).then(|| field.to_string())
}

/// The input field a conversion error is about, when the message says which type failed inside
/// which input object (`Failed to parse "DateTime": … (occurred while parsing "CreateApiTokenInput")`)
/// and exactly one field of that object has that type.
fn input_field(registry: &Registry, message: &str) -> Option<String> {
    let quoted = |after: &str| -> Option<String> {
        let rest = message.split_once(after)?.1.strip_prefix('"')?;
        Some(rest.split('"').next()?.to_string())
    };
    let failed = quoted("Failed to parse ").or_else(|| quoted("Expected input type "))?;
    let within = quoted("(occurred while parsing ")?;
    let Some(MetaType::InputObject { input_fields, .. }) = registry.types.get(&within) else { return None };
    let mut candidates =
        input_fields.values().filter(|f| MetaTypeName::concrete_typename(&f.ty) == failed).map(|f| f.name.clone());
    match (candidates.next(), candidates.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// A syntax error in one line: what was expected, and where (also in `locations`).
fn parse_failed(query: &str, engine: ServerError) -> ServerError {
    let (message, pos) = match async_graphql::parser::parse_query(query) {
        Err(async_graphql::parser::Error::Syntax { message, start, .. }) => {
            // pest's diagnostic is several lines; its last says what was expected.
            let what = message
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("= "))
                .unwrap_or_else(|| message.lines().next().unwrap_or_default())
                .replace('_', " ");
            (format!("Syntax error at line {}, column {}: {what}", start.line, start.column), Some(start))
        }
        Err(other) => {
            let pos = other.positions().next();
            (format!("The document is not valid GraphQL: {other}"), pos)
        }
        // The engine refused something the parser accepts (its recursion or directive limits).
        Ok(_) => (engine.message.lines().next().unwrap_or_default().to_string(), engine.locations.first().copied()),
    };
    error(message, pos, code::GRAPHQL_PARSE_FAILED)
}

#[derive(Default)]
struct Found {
    introspection: Option<Pos>,
    out_of_range: Option<(Pos, String)>,
    /// Arguments fed by a variable (with an empty name: the argument names the field).
    from_variables: HashMap<Pos, String>,
}

/// Walks a document with the schema's types beside it.
struct Walk<'a> {
    registry: &'a Registry,
    found: Found,
    /// Fragments being walked, so that a cycle (which validation reports) does not loop.
    fragments: Vec<&'a str>,
}

impl<'a> Walk<'a> {
    fn selection_set(
        &mut self,
        document: &'a ExecutableDocument,
        ty: Option<&'a str>,
        set: &'a Positioned<SelectionSet>,
    ) {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if name == "__schema" || name == "__type" {
                        self.found.introspection.get_or_insert(field.node.name.pos);
                    }
                    let meta = ty.and_then(|t| self.registry.types.get(t)).and_then(|t| t.field_by_name(name));
                    for (arg_name, value) in &field.node.arguments {
                        let arg_ty = meta.and_then(|m| m.args.get(arg_name.node.as_str())).map(|a| a.ty.as_str());
                        if value.node.clone().into_const().is_none() {
                            self.found.from_variables.insert(arg_name.pos, String::new());
                            self.found.from_variables.insert(value.pos, arg_name.node.to_string());
                            // Some coercion errors point at the field rather than the argument.
                            for pos in [field.pos, field.node.name.pos] {
                                self.found.from_variables.entry(pos).or_insert_with(|| arg_name.node.to_string());
                            }
                        }
                        if let Some(arg_ty) = arg_ty {
                            self.value(arg_ty, &value.node, arg_name);
                        }
                    }
                    let child = meta.map(|m| MetaTypeName::concrete_typename(&m.ty));
                    self.selection_set(document, child, &field.node.selection_set);
                }
                Selection::InlineFragment(fragment) => {
                    let condition = fragment.node.type_condition.as_ref().map(|c| c.node.on.node.as_str());
                    self.selection_set(document, condition.or(ty), &fragment.node.selection_set);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if self.fragments.contains(&name) {
                        continue;
                    }
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                        self.fragments.push(name);
                        let condition = fragment.node.type_condition.node.on.node.as_str();
                        self.selection_set(document, Some(condition), &fragment.node.selection_set);
                        self.fragments.pop();
                    }
                }
            }
        }
    }

    /// Checks a literal against its input type: the Int scalar takes 32 bits (the engine
    /// accepts any 64-bit literal at validation and fails only when the field runs).
    fn value(&mut self, ty: &str, value: &Value, argument: &Positioned<async_graphql::Name>) {
        match MetaTypeName::create(ty) {
            MetaTypeName::NonNull(inner) => self.value(inner, value, argument),
            MetaTypeName::List(inner) => match value {
                Value::List(items) => items.iter().for_each(|item| self.value(inner, item, argument)),
                other => self.value(inner, other, argument),
            },
            MetaTypeName::Named(name) => match (name, value) {
                ("Int", Value::Number(n)) => {
                    let fits = n.as_i64().is_some_and(|n| i32::try_from(n).is_ok());
                    if !fits && n.as_f64().is_none_or(|f| f.fract() == 0.0) {
                        self.found.out_of_range.get_or_insert((argument.pos, argument.node.to_string()));
                    }
                }
                (name, Value::Object(fields)) => {
                    if let Some(MetaType::InputObject { input_fields, .. }) = self.registry.types.get(name) {
                        for (field_name, field_value) in fields {
                            if let Some(field) = input_fields.get(field_name.as_str()) {
                                self.value(&field.ty, field_value, argument);
                            }
                        }
                    }
                }
                _ => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_errors_name_their_field() {
        let message = "Invalid value for argument \"input.kind\", enumeration type \"ProgramKind\" does not contain the value \"X\"";
        assert_eq!(invalid_argument(message).as_deref(), Some("kind"));
        assert_eq!(invalid_argument("Invalid value for argument \"status\", ...").as_deref(), Some("status"));
        assert_eq!(invalid_argument("Unknown field \"x\""), None);
        let missing = "Invalid value for argument \"input\", field \"idempotencyKey\" of type \"String!\" is required but not provided";
        assert_eq!(invalid_argument(missing).as_deref(), Some("idempotencyKey"));
    }

    #[test]
    fn a_syntax_error_is_one_line_with_its_place() {
        let err = parse_failed("{ viewer {\n  user { id }", ServerError::new("x", None));
        assert!(!err.message.contains('\n'), "{}", err.message);
        assert!(err.message.starts_with("Syntax error at line 2, column"), "{}", err.message);
        assert_eq!(err.locations.len(), 1);
        assert_eq!(err.locations[0].line, 2);
    }
}
