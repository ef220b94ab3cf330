//! The operator commands besides `serve`: each opens the database, brings it up to
//! date, does one thing, and prints its result as one JSON object on stdout.

use serde_json::json;

use crate::{
    StartError,
    accounts::{self, OrgId, Role, api_keys, audit::By, orgs::Creator},
    config::{Cli, DemoCommand, OrgCommand, UserCommand},
    db::Db,
    demo::{self, Seeding},
};

async fn open(cli: &Cli) -> Result<Db, StartError> {
    let db = Db::connect(&cli.database_url()?).await?;
    db.migrate().await?;
    crate::network::numbers::report_released(&db).await.map_err(StartError::Released)?;
    Ok(db)
}

pub async fn migrate(cli: &Cli) -> Result<(), StartError> {
    let db = open(cli).await?;
    db.close().await;
    tracing::info!(database = %cli.database_url()?, "migrations applied");
    Ok(())
}

pub async fn org(cli: &Cli, command: OrgCommand) -> Result<(), StartError> {
    let OrgCommand::Create { name, owner_email, owner_password } = command;
    let db = open(cli).await?;
    let created = accounts::orgs::create_with_owner(
        &db,
        &name,
        &owner_email,
        &owner_password,
        Creator::Operator,
    )
    .await?;
    let (_, key) = api_keys::create(
        &db,
        created.org,
        "Created by bidline org create",
        Role::Admin,
        By::operator(),
    )
    .await?;
    db.close().await;
    println!("{}", json!({ "org_id": created.org, "user_id": created.owner, "api_key": key }));
    Ok(())
}

pub async fn user(cli: &Cli, command: UserCommand) -> Result<(), StartError> {
    let UserCommand::ResetPassword { email, password } = command;
    let password = password.unwrap_or_else(accounts::passwords::generate);
    let db = open(cli).await?;
    let user = accounts::users::reset_password(&db, &email, &password).await?;
    db.close().await;
    println!("{}", json!({ "user_id": user, "password": password }));
    Ok(())
}

pub async fn demo(cli: &Cli, command: DemoCommand) -> Result<(), StartError> {
    let db = open(cli).await?;
    match command {
        DemoCommand::Seed { org_id, calls, days, seed } => {
            let org = OrgId(org_id);
            let written = demo::seed(&db, Seeding { org, calls, days, seed }).await;
            db.close().await;
            println!("{}", json!({ "org_id": org, "calls": written? }));
        }
        DemoCommand::Remove => {
            let removed = demo::remove(&db).await.map_err(StartError::Calls);
            db.close().await;
            println!("{}", json!({ "removed": removed? }));
        }
    }
    Ok(())
}
