/**
 * The get_all engine shared by every list endpoint (clearml-api.md §4): field filters, `only_fields`,
 * `order_by`, paging and scroll, and the `_ex` joins, all in SQL over the table aliased `t`.
 *
 * A list handler passes its (validated) request body and the entity's spec:
 *
 *   const { items, scroll_id } = await listEntities(ctx, modelsEntity, request, {
 *     expandRefs: true,            // the `_ex` form: references as objects
 *     allowPublic: true,           // include `company == ""` rows (the default)
 *     where: [sql`...`],           // extra conditions on `t`
 *     present: (doc) => doc,       // turn each projected stored document into its wire form
 *   });
 *
 * Each table's fields, filter kinds and JSON path rules live in `entities.ts`. The SQL building blocks
 * (`Dialect`, `and`, `column`, `compileFilters`) are exported for aggregate queries over the same filters.
 */
export type { EntitySpec, FieldSpec, FieldType, FilterKind, PathRule, RefTarget } from './spec.js';
export { modelsEntity, tasksEntity, projectsEntity } from './entities.js';
export { listEntities, type ListOptions, type ListResult } from './list.js';
export { compileFilters } from './filters.js';
export type { Doc } from './projection.js';
export { MAX_PAGE_SIZE } from './paging.js';
export { Dialect, and, or, not, column, sqlitePath, type Operand, type Sql } from './sql.js';
