//! Tag conditions: a target takes a call only when every condition holds for it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::network::{Invalid, template};

const MAX_CONDITIONS: usize = 50;
const MAX_VALUE: usize = 1000;
const MAX_LIST: usize = 500;
/// Compiled regexes stay small: conditions run on the routing hot path.
const REGEX_SIZE_LIMIT: usize = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ConditionOperator")]
pub enum Operator {
    Equals,
    NotEquals,
    StartsWith,
    EndsWith,
    Contains,
    Regex,
    GreaterThan,
    LessThan,
    InList,
    Exists,
    NotExists,
}

/// A condition as stored and answered; `value` has the shape its operator needs
/// (none, a text, a number, or a list of texts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Condition {
    pub attribute: String,
    pub operator: Operator,
    pub value: Value,
}

impl Eq for Condition {}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ConditionInput")]
pub struct Input {
    pub attribute: String,
    pub operator: String,
    #[serde(default)]
    pub value: Value,
}

pub fn parse(inputs: Vec<Input>, invalid: &mut Invalid) -> Vec<Condition> {
    if inputs.len() > MAX_CONDITIONS {
        invalid.add("conditions", format!("at most {MAX_CONDITIONS} conditions"));
    }
    let mut conditions = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let attribute = input.attribute.trim().to_owned();
        if !template::is_attribute(&attribute) {
            invalid.add(
                format!("conditions[{i}].attribute"),
                format!("must be one of {}", template::ATTRIBUTES.join(", ")),
            );
        }
        let operator: Operator =
            match serde_json::from_value(Value::String(input.operator.trim().to_owned())) {
                Ok(operator) => operator,
                Err(_) => {
                    invalid.add(
                    format!("conditions[{i}].operator"),
                    "must be one of equals, not_equals, starts_with, ends_with, contains, regex, \
                         greater_than, less_than, in_list, exists, not_exists",
                );
                    continue;
                }
            };
        match value(operator, input.value) {
            Ok(value) => conditions.push(Condition { attribute, operator, value }),
            Err(message) => invalid.add(format!("conditions[{i}].value"), message),
        }
    }
    conditions
}

/// `value` in the shape `operator` needs.
fn value(operator: Operator, value: Value) -> Result<Value, String> {
    let text = |value: Value| match value {
        Value::String(text) if text.chars().count() <= MAX_VALUE => Ok(text),
        Value::String(_) => Err(format!("must be at most {MAX_VALUE} characters")),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err("must be a text".to_owned()),
    };
    match operator {
        Operator::Exists | Operator::NotExists => match value {
            Value::Null => Ok(Value::Null),
            _ => Err("must be empty for exists and not_exists".to_owned()),
        },
        Operator::GreaterThan | Operator::LessThan => {
            let number = match &value {
                Value::Number(number) => number.as_f64(),
                Value::String(text) => text.trim().parse::<f64>().ok(),
                _ => None,
            };
            match number.and_then(serde_json::Number::from_f64) {
                Some(number) => Ok(Value::Number(number)),
                None => Err("must be a number".to_owned()),
            }
        }
        Operator::InList => {
            let items: Vec<String> = match value {
                Value::Array(items) => items.into_iter().map(text).collect::<Result<_, _>>()?,
                Value::String(list) => list.split(',').map(str::to_owned).collect(),
                _ => return Err("must be a list of texts, or texts separated by commas".to_owned()),
            };
            let mut items: Vec<String> = items
                .into_iter()
                .map(|item| item.trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect();
            items.dedup();
            match items.len() {
                0 => Err("must list at least one text".to_owned()),
                n if n > MAX_LIST => Err(format!("must list at most {MAX_LIST} texts")),
                _ => Ok(Value::from(items)),
            }
        }
        Operator::Regex => {
            let pattern = text(value)?;
            regex::RegexBuilder::new(&pattern).size_limit(REGEX_SIZE_LIMIT).build().map_err(
                |error| format!("is not a regular expression: {}", first_line(&error.to_string())),
            )?;
            Ok(Value::String(pattern))
        }
        Operator::Equals
        | Operator::NotEquals
        | Operator::StartsWith
        | Operator::EndsWith
        | Operator::Contains => text(value).map(Value::String),
    }
}

fn first_line(text: &str) -> String {
    text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or(text).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_json(json: Value) -> (Vec<Condition>, Invalid) {
        let mut invalid = Invalid::default();
        let conditions = parse(serde_json::from_value(json).unwrap(), &mut invalid);
        (conditions, invalid)
    }

    #[test]
    fn values_take_the_shape_of_their_operator() {
        let (conditions, invalid) = parse_json(serde_json::json!([
            {"attribute": "caller.state", "operator": "in_list", "value": "CA, NY,TX"},
            {"attribute": "tag.age", "operator": "greater_than", "value": "64"},
            {"attribute": "tag.gclid", "operator": "exists"},
            {"attribute": "caller.area_code", "operator": "regex", "value": "^(212|646)$"}
        ]));
        assert!(invalid.0.is_empty(), "{invalid:?}");
        assert_eq!(conditions[0].value, serde_json::json!(["CA", "NY", "TX"]));
        assert_eq!(conditions[1].value, serde_json::json!(64.0));
        assert_eq!(conditions[2].value, Value::Null);
    }

    #[test]
    fn each_bad_condition_is_named_by_its_place() {
        let (_, invalid) = parse_json(serde_json::json!([
            {"attribute": "caller.shoe_size", "operator": "equals", "value": "9"},
            {"attribute": "caller.state", "operator": "sounds_like", "value": "CA"},
            {"attribute": "tag.age", "operator": "less_than", "value": "young"},
            {"attribute": "caller.number", "operator": "regex", "value": "(unclosed"},
            {"attribute": "tag.x", "operator": "exists", "value": "yes"},
            {"attribute": "tag.x", "operator": "in_list", "value": []}
        ]));
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "conditions[0].attribute",
                "conditions[1].operator",
                "conditions[2].value",
                "conditions[3].value",
                "conditions[4].value",
                "conditions[5].value",
            ]
        );
        assert!(invalid.0["conditions[3].value"].starts_with("is not a regular expression"));
    }
}
