// Validates Kubernetes objects (the Jobs `harness plan --emit k8s` writes) with kubernetes-models, whose validators are
// generated from Kubernetes' own OpenAPI definitions (v1.36.0 for kubernetes-models 5.1.0) and run as ajv code: JSON types,
// required fields, enum values (completionMode, restartPolicy, podFailurePolicy actions...) and formats (int32, quantity).
//
// Those validators let unknown fields through (the OpenAPI definitions carry no additionalProperties: false), so this script
// adds that check itself. It gives the package's own compiled validator a read-only view of the object that records which
// field names the validator looks up on each object: for every field its schema declares, the generated code reads
// `data.<field>` whether or not it is present, so the names read are exactly the declared fields. A field of the object that
// was never read is unknown. An object whose keys the validator enumerates (for ... in: a map such as labels, annotations or
// resources.requests) takes any key; an object of which no field was read has a schema without fields (free-form, such as
// managedFields' fieldsV1) and is not judged.
//
// Usage: node validate-k8s.mjs < OBJECTS.json
//   input:  a JSON array of Kubernetes objects (YAML already turned into JSON)
//   output: a JSON array of {"index", "kind", "name", "errors": ["data/spec/completions must be integer", ...]}, one per object
//   exit:   0 when every object is valid, 1 when any is not (or is a kind this script does not know), 2 when the input
//           is not a JSON array
import { readFileSync } from "node:fs";
import { Job } from "kubernetes-models/batch/v1/Job";
import { validate as validateJobSchema } from "kubernetes-models/_schemas/IoK8sApiBatchV1Job";

// apiVersion/kind -> the model class and the generated validator that class runs. Add a kind here when the emitter writes one.
const Kinds = new Map([
    ["batch/v1/Job", { model: Job, validate: validateJobSchema }],
]);

let objects;
try {
    objects = JSON.parse(readFileSync(0, "utf8"));
} catch (error) {
    console.error(`validate-k8s: the input is not JSON (${error.message})`);
    process.exit(2);
}
if (!Array.isArray(objects)) {
    console.error("validate-k8s: the input must be a JSON array of Kubernetes objects");
    process.exit(2);
}

const results = objects.map((object, index) => {
    const kind = object?.kind ?? null;
    const name = object?.metadata?.name ?? null;
    const known = Kinds.get(`${object?.apiVersion}/${kind}`);
    if (!known) {
        return { index, kind, name, errors: [`apiVersion ${JSON.stringify(object?.apiVersion)} kind ${JSON.stringify(kind)} is not a kind this validator knows (${[...Kinds.keys()].join(", ")})`] };
    }
    return { index, kind, name, errors: [...schemaErrors(known.model, object), ...unknownFields(known.validate, object)] };
});

process.stdout.write(JSON.stringify(results, null, 2) + "\n");
process.exit(results.every(r => r.errors.length === 0) ? 0 : 1);

/** The model's own validate(): it throws an ajv ValidationError whose errors carry English messages. */
function schemaErrors(Model, object) {
    try {
        new Model(object).validate();
        return [];
    } catch (error) {
        if (!Array.isArray(error?.errors)) {
            throw error;
        }
        return error.errors.map(e => `data${e.instancePath} ${e.message}` +
            (e.params?.allowedValues ? ` (${e.params.allowedValues.join(", ")})` : ""));
    }
}

/** Fields of the object that the generated validator never looked up: names its schema does not declare. */
function unknownFields(validate, object) {
    const reads = new WeakMap();      // object -> Set of field names the validator read
    const enumerated = new WeakSet(); // objects whose keys the validator listed (maps)
    const views = new WeakMap();

    const view = target => {
        if (target === null || typeof target !== "object") {
            return target;
        }
        let proxy = views.get(target);
        if (!proxy) {
            reads.set(target, new Set());
            proxy = new Proxy(target, {
                get(t, key, receiver) {
                    if (typeof key === "string") {
                        reads.get(t).add(key);
                    }
                    return view(Reflect.get(t, key, receiver));
                },
                ownKeys(t) {
                    enumerated.add(t);
                    return Reflect.ownKeys(t);
                },
                set() {
                    throw new Error("validate-k8s: the validator tried to change the object");
                },
                deleteProperty() {
                    throw new Error("validate-k8s: the validator tried to change the object");
                },
            });
            views.set(target, proxy);
        }
        return proxy;
    };

    validate(view(object));

    const errors = [];
    const walk = (value, path) => {
        if (value === null || typeof value !== "object") {
            return;
        }
        if (Array.isArray(value)) {
            value.forEach((item, i) => walk(item, `${path}/${i}`));
            return;
        }
        const read = reads.get(value);
        const judged = read !== undefined && read.size > 0 && !enumerated.has(value);
        for (const key of Object.keys(value)) {
            if (judged && !read.has(key)) {
                errors.push(`data${path} has unknown field ${JSON.stringify(key)}`);
                continue;
            }
            walk(value[key], `${path}/${key}`);
        }
    };
    walk(object, "");
    return errors;
}
