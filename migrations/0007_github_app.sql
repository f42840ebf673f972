CREATE TABLE `github_deliveries` (
	`delivery_id` text PRIMARY KEY NOT NULL,
	`event` text NOT NULL,
	`action` text,
	`installation_id` integer,
	`tenant_id` text,
	`repository` text,
	`sender` text,
	`outcome` text NOT NULL,
	`reason` text,
	`job_id` text,
	`received_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `github_deliveries_tenant_idx` ON `github_deliveries` (`tenant_id`,`received_at`,`delivery_id`);--> statement-breakpoint
CREATE INDEX `github_deliveries_received_idx` ON `github_deliveries` (`received_at`);--> statement-breakpoint
CREATE TABLE `github_installations` (
	`installation_id` integer PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`project_id` text NOT NULL,
	`account_login` text,
	`settings` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `github_installations_tenant_idx` ON `github_installations` (`tenant_id`,`created_at`,`installation_id`);--> statement-breakpoint
CREATE TABLE `github_jobs` (
	`job_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`installation_id` integer NOT NULL,
	`repository` text NOT NULL,
	`trigger` text NOT NULL,
	`delivery_id` text NOT NULL,
	`issue_number` integer,
	`comment_id` integer,
	`head_sha` text NOT NULL,
	`head_ref` text,
	`check_run_id` integer,
	`spec` text NOT NULL,
	`answered` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `github_jobs_check_run_idx` ON `github_jobs` (`installation_id`,`check_run_id`);--> statement-breakpoint
CREATE INDEX `github_jobs_tenant_created_idx` ON `github_jobs` (`tenant_id`,`created_at`,`job_id`);