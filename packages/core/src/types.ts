import type { InputField, JSONLikeObject, JSONValue } from '@segment/actions-core'

/**
 * Payload types derived from the field definitions themselves, so a payload type can never drift from its
 * fields (upstream keeps 826 generated `generated-types.ts` files for this). Declare fields with
 * `defineFields({...})` and take the type with `InferPayload<typeof fields>`.
 */
export function defineFields<const Fields extends Record<string, InputField>>(fields: Fields): Fields {
  return fields
}

type Simplify<T> = { [K in keyof T]: T[K] } & {}

type ChoiceValue<Choice> = Choice extends string
  ? Choice
  : Choice extends { value: infer Value extends string }
    ? Value
    : string

type ScalarValue<Field> = Field extends { choices: readonly (infer Choice)[] }
  ? ChoiceValue<Choice>
  : Field extends { type: 'number' | 'integer' }
    ? number
    : Field extends { type: 'boolean' }
      ? boolean
      : Field extends { type: 'object' }
        ? Field extends { properties: infer Properties extends Record<string, unknown> }
          ? PropertiesPayload<Properties>
          : JSONLikeObject
        : Field extends { type: 'string' | 'text' | 'datetime' | 'password' }
          ? string
          : JSONValue

type FieldValue<Field> = (
  Field extends { multiple: true } ? ScalarValue<Field>[] : ScalarValue<Field>
) extends infer Value
  ? Field extends { allowNull: true }
    ? Value | null
    : Value
  : never

type RequiredKeys<Fields> = {
  [Key in keyof Fields]: Fields[Key] extends { required: true } ? Key : never
}[keyof Fields]

type PropertiesPayload<Properties> = Simplify<
  { [Key in RequiredKeys<Properties>]: FieldValue<Properties[Key]> } & {
    [Key in Exclude<keyof Properties, RequiredKeys<Properties>>]?: FieldValue<Properties[Key]>
  }
>

/** The payload an action receives for these fields, after mapping and validation by actions-core. */
export type InferPayload<Fields extends Record<string, InputField>> = PropertiesPayload<Fields>
