/**
 * Query limits as GraphQL validation rules, so every refusal happens at validation time, before
 * any resolver runs (and is cached with the parsed document): depth, aliases, and a static cost.
 *
 * Cost is static: each selected field costs 1, multiplied by the sizes of the lists above it.
 * A list's size is its `first` argument (a literal; a variable counts as the maximum page size,
 * since validation does not see variable values), or the default list size for lists without
 * `first`. The `nodes` of a `…Connection` are already sized by the connection's `first`.
 * Introspection (`__schema`, `__type`) is exempt from depth and cost; it is switched off in
 * production by {@link introspectionRule} instead.
 */
import { gql } from './graphql.js';
import type { GraphQLError as GraphQLErrorType } from 'graphql';
import type { ASTVisitor, FragmentDefinitionNode, GraphQLField, GraphQLNamedType, SelectionSetNode, ValidationContext, ValidationRule } from 'graphql';

const { getNamedType, getNullableType, GraphQLError, isListType, isObjectType, isInterfaceType, Kind, NoSchemaIntrospectionCustomRule, OperationTypeNode } = gql;

/** The limits enforced per document. */
export interface QueryLimits {
  readonly depth: number;
  readonly aliases: number;
  readonly cost: number;
  readonly maxPageSize: number;
  /** The size assumed for lists without a `first` argument (the default page size). */
  readonly defaultListSize: number;
}

function limitError(limit: string, message: string, max: number, actual: number): GraphQLErrorType {
  return new GraphQLError(message, { extensions: { code: 'VALIDATION', limit, max, actual } });
}

function fragmentsOf(context: ValidationContext): Map<string, FragmentDefinitionNode> {
  const map = new Map<string, FragmentDefinitionNode>();
  for (const def of context.getDocument().definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) map.set(def.name.value, def);
  }
  return map;
}

/** Refuses documents nested deeper than `max` (fragments inlined; introspection exempt). */
export function depthRule(max: number): ValidationRule {
  return (context) => {
    const fragments = fragmentsOf(context);
    const depthOf = (set: SelectionSetNode, seen: ReadonlySet<string>): number => {
      let deepest = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue;
          deepest = Math.max(deepest, 1 + (sel.selectionSet === undefined ? 0 : depthOf(sel.selectionSet, seen)));
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(sel.selectionSet, seen));
        } else {
          const name = sel.name.value;
          const frag = fragments.get(name);
          if (frag === undefined || seen.has(name)) continue; // cycles and unknowns are other rules' errors
          deepest = Math.max(deepest, depthOf(frag.selectionSet, new Set([...seen, name])));
        }
        if (deepest > max) return deepest; // stop early on hostile documents
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        const d = depthOf(node.selectionSet, new Set());
        if (d > max) context.reportError(limitError('depth', `query depth ${d > max + 1 ? `over ${max}` : d} exceeds the limit of ${max}`, max, d));
      },
    };
  };
}

/** Refuses documents with more than `max` aliased fields. */
export function aliasRule(max: number): ValidationRule {
  return (context) => {
    let count = 0;
    let reported = false;
    return {
      Field(node) {
        if (node.alias === undefined) return;
        count++;
        if (count > max && !reported) {
          reported = true;
          context.reportError(limitError('aliases', `${count} aliases exceed the limit of ${max}`, max, count));
        }
      },
    };
  };
}

function fieldOf(type: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

/** Refuses documents whose static cost exceeds `limits.cost`. */
export function costRule(limits: QueryLimits): ValidationRule {
  return (context) => {
    const fragments = fragmentsOf(context);
    const schema = context.getSchema();
    const costOf = (set: SelectionSetNode, parent: GraphQLNamedType, multiplier: number, seen: ReadonlySet<string>): number => {
      let total = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          const name = sel.name.value;
          if (name.startsWith('__')) continue;
          const field = fieldOf(parent, name);
          if (field === undefined) continue; // FieldsOnCorrectType reports it
          let factor = 1;
          const firstArg = sel.arguments?.find((a) => a.name.value === 'first');
          if (field.args.some((a) => a.name === 'first')) {
            if (firstArg === undefined) factor = limits.defaultListSize;
            else if (firstArg.value.kind === Kind.INT) factor = Math.max(1, Math.min(Number(firstArg.value.value), limits.maxPageSize * 10));
            else factor = limits.maxPageSize;
          } else if (isListType(getNullableType(field.type)) && !parent.name.endsWith('Connection')) {
            factor = limits.defaultListSize;
          }
          const own = multiplier;
          const child = sel.selectionSet === undefined ? 0 : costOf(sel.selectionSet, getNamedType(field.type), multiplier * factor, seen);
          total += own + child;
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          const t = sel.typeCondition === undefined ? parent : (schema.getType(sel.typeCondition.name.value) ?? parent);
          total += costOf(sel.selectionSet, t, multiplier, seen);
        } else {
          const fname = sel.name.value;
          const frag = fragments.get(fname);
          if (frag === undefined || seen.has(fname)) continue;
          const t = schema.getType(frag.typeCondition.name.value) ?? parent;
          total += costOf(frag.selectionSet, t, multiplier, new Set([...seen, fname]));
        }
        if (total > limits.cost) return total;
      }
      return total;
    };
    const visitor: ASTVisitor = {
      OperationDefinition(node) {
        const root = node.operation === OperationTypeNode.QUERY ? schema.getQueryType() : node.operation === OperationTypeNode.MUTATION ? schema.getMutationType() : schema.getSubscriptionType();
        if (root === null || root === undefined) return;
        const cost = costOf(node.selectionSet, root, 1, new Set());
        if (cost > limits.cost) context.reportError(limitError('cost', `query cost ${cost} exceeds the limit of ${limits.cost}`, limits.cost, cost));
      },
    };
    return visitor;
  };
}

/** Refuses introspection (`__schema`, `__type`); used in production. */
export const introspectionRule: ValidationRule = NoSchemaIntrospectionCustomRule;

/** Every limit rule for the given mode, in the order they are reported. */
export function limitRules(limits: QueryLimits, production: boolean): ValidationRule[] {
  const rules: ValidationRule[] = [depthRule(limits.depth), aliasRule(limits.aliases), costRule(limits)];
  if (production) rules.push(introspectionRule);
  return rules;
}
