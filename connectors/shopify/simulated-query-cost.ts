import {
  getArgumentValues,
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/**
 * The simulator's reading of Shopify's calculated query cost for read queries (shopify.dev "API rate limits"):
 * scalars and enums cost nothing, an object 1 point, a connection 2 points plus `first` × its node's cost, a
 * list with a `first` argument `first` × its item's cost. Requested cost is computed from the document before
 * it runs; actual cost counts one point per object returned. Fragments by name are not followed (the
 * connector sends none).
 */
export function requestedCost(schema: GraphQLSchema, selectionSet: SelectionSetNode, parent: GraphQLCompositeType, variables: Record<string, unknown>): number {
  let total = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
      if (on && isCompositeType(on)) total += requestedCost(schema, selection.selectionSet, on, variables);
      continue;
    }
    if (selection.kind !== Kind.FIELD || !selection.selectionSet) continue;
    if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
    const definition: GraphQLField<unknown, unknown> | undefined = parent.getFields()[selection.name.value];
    if (!definition) continue;
    const named = getNamedType(definition.type);
    if (!isCompositeType(named)) continue;
    const args = getArgumentValues(definition, selection, variables);
    const inner = requestedCost(schema, selection.selectionSet, named, variables);
    const first = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : 1;
    if (named.name.endsWith('Connection')) {
      total += 2 + first * inner;
    } else if (selection.name.value === 'pageInfo') {
      continue;
    } else if (isListType(isNonNullType(definition.type) ? definition.type.ofType : definition.type)) {
      const count = Array.isArray(args.ids) ? args.ids.length : first;
      total += count * (1 + inner);
    } else {
      total += 1 + inner;
    }
  }
  return total;
}

/** What the answer actually cost: one point per object in it. */
export function actualCost(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + actualCost(item), 0);
  if (value === null || typeof value !== 'object') return 0;
  return 1 + Object.values(value).reduce((sum: number, item) => sum + actualCost(item), 0);
}
