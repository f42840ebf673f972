CREATE TABLE `budget_notices` (
	`tenant_id` text NOT NULL,
	`scope` text NOT NULL,
	`scope_id` text NOT NULL,
	`month` text NOT NULL,
	`threshold` integer NOT NULL,
	`spend_micro_usd` integer NOT NULL,
	`limit_micro_usd` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `scope`, `scope_id`, `month`, `threshold`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `budget_notices_tenant_created_idx` ON `budget_notices` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`monthly_budget_micro_usd` integer,
	`repo_allow_list` text DEFAULT '[]' NOT NULL,
	`sandbox` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `projects_tenant_name_idx` ON `projects` (`tenant_id`,`name`);--> statement-breakpoint
CREATE INDEX `projects_tenant_created_idx` ON `projects` (`tenant_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `secrets` (
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`key_id` text NOT NULL,
	`iv` text NOT NULL,
	`ciphertext` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `name`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `secrets_tenant_created_idx` ON `secrets` (`tenant_id`,`created_at`,`name`);--> statement-breakpoint
CREATE TABLE `usage_ledger` (
	`job_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`project_id` text,
	`actor` text,
	`day` text NOT NULL,
	`item` text NOT NULL,
	`model` text DEFAULT '' NOT NULL,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`cache_write_tokens` integer DEFAULT 0 NOT NULL,
	`cache_read_tokens` integer DEFAULT 0 NOT NULL,
	`sandbox_seconds` integer DEFAULT 0 NOT NULL,
	`vcpu_seconds` integer DEFAULT 0 NOT NULL,
	`gib_seconds` integer DEFAULT 0 NOT NULL,
	`cost_micro_usd` integer DEFAULT 0 NOT NULL,
	`reported_cost_micro_usd` integer,
	`price_table` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`job_id`, `item`, `model`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `usage_ledger_tenant_day_idx` ON `usage_ledger` (`tenant_id`,`day`);--> statement-breakpoint
CREATE INDEX `usage_ledger_project_day_idx` ON `usage_ledger` (`tenant_id`,`project_id`,`day`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `project_id` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `kind` text DEFAULT 'command' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `cost_micro_usd` integer DEFAULT 0 NOT NULL;