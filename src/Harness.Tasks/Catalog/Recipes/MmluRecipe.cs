using System.Collections.Immutable;
using System.Text;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>
/// MMLU as lm-eval's <c>mmlu</c> group (default variant): per subject, the description "The following are multiple
/// choice questions (with answers) about {subject}.\n\n", the first five dev questions as examples (first_n sampler),
/// then the question; the letters " A".." D" are the continuations; acc (acc_norm recorded too). Writes one suite per
/// subject (<c>mmlu-&lt;subject&gt;</c>) and the pooled <c>mmlu</c> (14,042 items, every item carrying its subject's
/// rendered preamble, so its plain prompt equals the subject suite's byte for byte).
/// </summary>
public sealed class MmluRecipe : IBenchmarkRecipe
{
    /// <summary>lm-eval's num_fewshot for MMLU as published (the group's usual 5-shot setting).</summary>
    public const int FewShotCount = 5;

    /// <summary>lm-eval's doc_to_text with the question already stripped into the <c>question</c> field.</summary>
    internal const string QueryTemplate = "{{question}}\nA. {{option_a}}\nB. {{option_b}}\nC. {{option_c}}\nD. {{option_d}}\nAnswer:";

    private static readonly ImmutableArray<string> Letters = ["A", "B", "C", "D"];

    /// <summary>The 57 subjects (lm-eval's dataset_name) with the sha256 of nutcracker's dev and test files.</summary>
    internal static readonly ImmutableArray<(string Subject, string DevSha256, string TestSha256)> Subjects =
    [
        ("abstract_algebra", "632e662e5df9977bcb7ec7d14102513a78e4d33139122d8efeceffefc0a86cc0", "c34a9da7fceea69263c0ea99d34a806cd69043d7e162fe8fb96d76eec4eeb01e"),
        ("anatomy", "3b9e3c16e65373d766d4f47ade89a535b6717b60ebb7482f38d1af4bd4f9a823", "dd8cca64b941632e32848e7d8deca27c02dbf3ddf8eaa45ec790e7b594ed010e"),
        ("astronomy", "62644cb5d957f56447774adc5e9d69a68addd5fad5776712b234c718cf441177", "2b2f7fa9a07a8e97615634689a11e5d31fdbc89782662328290aba49e80b89a1"),
        ("business_ethics", "049556dfb611deffdf3b02bc1c164d2eba7d79f1753d753e89b7650278404c28", "6079f679206b7f4b1a7f251b1811bb128841d57fbabc05acd31caaf1a1bd4569"),
        ("clinical_knowledge", "5eabc46c57bd46f02f2f8979836235c87d3897544d05bb576cf5bec978637c5d", "fce78d97f7421c54e99e8ddb7310f8cc8b67a68325cc56ff4447d91803fb03f3"),
        ("college_biology", "7a42f7aa46e768b0ee9eaac9b19bdc9e027ca60860fc9632a1bccbe1e2ef7f14", "e253aa431aca36fbc7b7267e7f1fb6a55735f373dfd1d1995b3506ab4c4f5e18"),
        ("college_chemistry", "049f347ea8a5080394f37b3bf75cf5987d5ac270ca1f42db21c5f1e1a73694b1", "6ff328a43dab38aeb367f4f367d5b9d16d4ce3c51fd40cca5a9910563c1695a4"),
        ("college_computer_science", "edecfc9eb2d25b7234a218a05b68f582b9ffec40e4937cb8313fa4828e9427c3", "a76e6d87e17ba0d3cab2cdf7b85dada90d822f723f2be8a824c324c59aa324c5"),
        ("college_mathematics", "a13106bff8e581703c46e2d4838fa3bddacebdde1613003ee142a392ecbf4942", "2f20193753b50585a6505f4e3b4b77a67c8f634bf9b42e73356e053c9f0b9cfa"),
        ("college_medicine", "32399544a86e2941986df980f2e5f4554650b60fa17beebf089a11fa58a7e8ba", "1dfbccc07104ffc197e6b25bb94c87844642b1399eb91c56f2c348f57bfd9ff1"),
        ("college_physics", "7f0ad4eda39d224f0a093ab8a4f71883d70627a5ab147fae4d95d7138b87ca9f", "7b8e6fd5ab584593feb331f45ac8e0a282bbaad61adf3e58f7f89ce129276839"),
        ("computer_security", "35844a9d632035c8a6ad9764de135e15aecd5fb81962b10c21e6370ce86258e1", "d96ac26f2b52ce9d297f9ed7b69f6c4fedc8d353e7b2d06634d147d34940188f"),
        ("conceptual_physics", "b6298f3570589f9071d3234bf4b2e9263a6cce23a12da1e5fe2604ade3f0f8e8", "facfc2e6893fe72627497a57f87ba4da59a6822bba2a7c3ccd3a1764fd2de3ee"),
        ("econometrics", "c5b4fdf0a37efb57a7008a8a6429be2d3e160d357ef5b1fed9afa6cb1c047d6e", "90dfe99fb49175c881bb351cfdab5272ef8bdae12873469e03f96731a7e0b43b"),
        ("electrical_engineering", "8563bcce5edf03ac19f63175dc9b95afa4c396a0baf87a2e9e4579f6db540f1f", "29df8cffd8083c88d395b87688efe8ceadd6ee7a42d31867a5771406cb031f23"),
        ("elementary_mathematics", "8f0e673226b38b71a111528c26b72a19a711c9182a57b27806743705c774d250", "83b81b9031009fdbb3079b6c514b6f5ec444f281d619f586a6a96ad49b7832bd"),
        ("formal_logic", "980adf2f65994455fa885a22d9c38babd1280b449f45e4b8bbd4b23960feeb58", "a642c37e4829938f94f0268da1b25096261babb46ad71273f61f4685c9858408"),
        ("global_facts", "0cab122b33ab413820850747bb979fe81b996d9ca4fed83a626c8b6856a2ff51", "326b3bb519ef12d377d8110d38c1d78c63285a58309a908cc98d7dff0a72e16c"),
        ("high_school_biology", "933622f97303371a042293e124e7ce4af5e9774c4bbe8972e5eaa0d275cbda97", "f3a1a74a82b8e5ffe705c7a4a79b535b7b19e04734452204fe3d93f4cd581852"),
        ("high_school_chemistry", "3b805a2d59bdb089513794e5494cced319f3fe7d81bcd1d8e5ddf386251864ce", "25809b2058c3ada6861e8499ef3cebf3bc6c950b71f7a0fcc51ea1895638796a"),
        ("high_school_computer_science", "95fd5ef2708e8fb38d3d680d85d54229fb287bfa6f04c0188d92d1ed6003a95b", "b494c52702c8d39f195e533933c13c30a2ae513694b6818237c74396daa12456"),
        ("high_school_european_history", "388766554687d3bf16eb60b1f9882b3f71aaec8188dcabe08a1f59502988d2f3", "e11f299e5f374dad07211e65012c2f4b6b24da85c07427311a93471d76e95bf3"),
        ("high_school_geography", "151cfb50662bee0b20b2d082d41784516a9bff7d0e06916e2a38d7aff71387bf", "11991c4d55182cc17351d768d4666b150f0fea15370ce39e64a612a6b9802d58"),
        ("high_school_government_and_politics", "346ab044169ad9a75f4029b75feedb8d2d0ca7aa29b92878e022702cb4440895", "02a6acfc1371140c6e725cc3ff8e9bac76aa9f01162c9ba439d1ba91a9415bfb"),
        ("high_school_macroeconomics", "6d7047281cd660d075871c74bb541b689d154e342d93cea3265f9eefe2d75e41", "143419569fc387decb12ec3b2fbeca424d2cabfd3088da601df71555d32fdeaf"),
        ("high_school_mathematics", "69493701d03a24ea1925fc90df775099e35e9629a7b9eadb28f7648de7521969", "5772d5b033c7f9a565dfecfdd95af3dd2ff85fae486c745a16680020c6bc5d40"),
        ("high_school_microeconomics", "d6ed8baa9776a93fbdb7b4695bdda637d74cf3de6db6f6ff1bd6608e365e75d5", "e8e091a2b3546a75c1714a29f1cc6aef816d3a3d96e204ab9ab6b8198937ffd8"),
        ("high_school_physics", "0e9e674bb6951135330e7c9175e3be054d6ca8e2f2a0ade529be1f76052a26d4", "e5253bdc5c6da148fe8fc60519d5973dd4e3ffec80b1162a5086882fd70b45c0"),
        ("high_school_psychology", "2e265dde4bee6aa375d4671e720270f30788dfbfa88a60175fcc12edf82e9690", "7ab9052bca8ce2e864d45b8646838048831d7c126365024c5188b75edd85ab06"),
        ("high_school_statistics", "0adb3161b3145b3212d021022ca09a824e6068c545be9aeec242f64d1e6b87f5", "a010226afd58065aa93ad5bbaa5ec1117f06acd2695db2b344168df0166b477f"),
        ("high_school_us_history", "bfa04c8984f3782945b82974a62331389551933fd5b23160ce2477b75aceb91a", "537c997c1c4964e095e561e35aceb72d0107665a4d505b835fd07851cbefaf30"),
        ("high_school_world_history", "3b20b37924e65991df5455ca49e81ee111fe4cea55fa9b9ebc98b386606ccfbd", "286178c3cc88079e0dd65f53815ea08deb7e900b72126ee99d935272b65d0709"),
        ("human_aging", "8ea8df4c3cee629f03e600627264295b5ab1a682af645c7672e8ea4104cbe278", "c4ed38f6d42853acb85f5d6702d0b31c1fd4a66804653acc7e97d5ade758cbb7"),
        ("human_sexuality", "3b9b16f8e74b9ddbbf3355c834264f01e73f77e994850fae17343e27e4db0bf9", "0a9c1d7a9d36e514e452faac791544139b6ea6d1d565c54967ea6433393a9ebc"),
        ("international_law", "a68a631e0c0b4c77804fdbab293f50ae03e3b19ddf0f1a9a0096b29e35f226a3", "55b47a114c3ee6db24b7909f1b295df45b3c56bf8d074b6fa8c729bb5c1a7665"),
        ("jurisprudence", "eacb55676a4ea54f7f75140e6bde839c664b4eb86a0c1aa0f8dae73be65f4deb", "3eddb61e87e87f66e9b00d81d8de33e9f2cd55a1419d549d5b00ff2816883ac1"),
        ("logical_fallacies", "b09903b10abffde7857b81d3f4026b007dbc802147e8828f5a06718137d8e48a", "1b3be389cbf95b2232384721892a773a357766ac5ae5c0177855bd823d2e2993"),
        ("machine_learning", "b31ac3fde5760a7f8d863105528fefd789e9e601babac19ec8ed150238389d52", "8f4c973da731f6a0b67856fa2ce65b2f1d0c115a3160f9ecb79882349bcdfa1a"),
        ("management", "992e151e28bfecdbe8ffd8c00a8c9aa201b447df3ecbb044c54ddf45c78f16d7", "1850f080c5b9f8b2ab215e0cb44884b542be5bc038d0deeb9e88dd7300ea0cfa"),
        ("marketing", "91bfc3bf72e40c276e3a07d1fb19f77eeb561449a9fe643f8b9f20e4a172d522", "7645d748545de4198fe2c9361897fd513c8c0bdec3d912efc9bac7e3214ba80d"),
        ("medical_genetics", "4d5edbda8b0be0d09078742610cc9be511fed8da10a10084a52259e1d849c0aa", "2ae58a9f71f272102a96ed1d124784c58253ef564327ab36854a0f87877f8707"),
        ("miscellaneous", "60cda1cddc41eb6cf87fbdde022e3d9f225c70d33c4573f1eda76e14c33f2470", "7eb9531ccce49dd3d6ef8f88925edce613406d0fc6dc57caeda869fade3290c7"),
        ("moral_disputes", "735af7b0c7c55b640c753f41e11834f3a635cad36db2a9fe2f5e259301960226", "31f6efcbb01d64ed26125541409ce4ef9a231f59d10de6734d413d8c416dda0e"),
        ("moral_scenarios", "130ff1d0cdb2ed4617394eb3d2bffcf758f24223123518c50b76e006e4fadee3", "fa2d19cecdd4a3bd1e219fb8304136974faa53a6a1bbf94f17ca3d56318494c3"),
        ("nutrition", "b5fa7a3fbc593170d1f5916780be78e8bb26fc98e4ce87fa88cd705bc1841bca", "45e7dddf50699a69f3101c17427ddcbc6f631850fb7890ccfedc38d7ca81c41b"),
        ("philosophy", "2140b7104f0542ec7e69929c97108f9826f4e8d16bbdbef8045106751f637738", "2ee77956dd225bdab48e5bf0d6ef57017fad75278bf8105f807c443b688609fe"),
        ("prehistory", "9a14443843d2a57b4827f7284e45fbc0dd7a2242fa0cc92a648e3b0084987790", "1778bb5a6e64afec0abb8665239e70cee212555cdf86755f13ed06de4e0180c0"),
        ("professional_accounting", "0b342a93cc8bbbc633fa70d5cc004119eeb3b3fc95cbfd3be30e191025b20ab5", "bef706970433c56b371e1cbe8e6626d80c8137c5f3a4a7765a33c3b3df36221b"),
        ("professional_law", "48993f2ea158946f827b22d6460ece2de01d6b3b84d9c57274857c87de789a02", "f0628afde5593b346031e4cd07019067a4cb80e4d663a77a6904e9ce3f578991"),
        ("professional_medicine", "0e26b8590ac56a2cc8ace8f4613652cbfc44f1485a86383de0cabf1aa6b6f540", "88e6409df358b928eea8972de95fdf121da332466f5722e4c9f624af6ba641ef"),
        ("professional_psychology", "9b14ca248a531b42971436b41cdced7da5d40aa2147d156f7c98c72dfbd2e5e5", "f7fcdd105c9d76387681939b44f563d7b9abb2d7222bdcf609b46e681dd14030"),
        ("public_relations", "5aa098b99dc8b49d9486c5ae97a4a914b21280c042dd6a637ee4b8cc3b289e4b", "04dd253b14cbd511c8d29c9033a84ed33ec709adba86c44f81ebed210a5cf378"),
        ("security_studies", "90fde595cbc6162603cf053066f36e040a85fa51606de5fb2e3f686c1ebc565b", "3f73ceb1da50c7163a50d2deddf28ed23adc1946943824346721a60f702e369e"),
        ("sociology", "281d4ad26fd82cee9195dc70bc48b10479cf48be2d475fd5c560ad6278c327b6", "a7c79d1c586183eb4132720a52a211be6dc119d5779ef7ac32d0cc1b0bfd5714"),
        ("us_foreign_policy", "d7cf82c11cd13ebb9d924db8aab3fa0021e5af2f8a6e51cf56ec06b6d41b09d7", "75e57291e85ef8cd7c8356c2df39c84a0793fb0317cb427dc1a45660d99117d3"),
        ("virology", "6591b1097d956b31af07958fd8b542997a25eaa4a116bdc371fc31be0a0534c6", "3285c3fca342f901404f561a4f5b70eb6f7d2cda0ee3cb2a0df7c5e56c523f73"),
        ("world_religions", "89a2ccb32f48317ededcdcff96171c394374ecfed795d7c68e4dc416c41b00cf", "16ec401bf056833a751f617c988c61aad20d75922845d45a22b636fdc493f87d"),
    ];

    public string Name => "mmlu";

    public ImmutableArray<string> SuiteNames => [.. Subjects.Select(s => FolderOf(s.Subject)), Name];

    public string Description =>
        "MMLU, 57 subjects, 14,042 questions, 5-shot from each subject's dev split as lm-eval's mmlu (default); the "
        + "letter A-D by log-likelihood; acc. Per-subject suites mmlu-<subject> and the pooled mmlu. Open: knowledge "
        + "breadth keeps paying and the benchmark has no pass line, so models are ranked.";

    public DataSource Source { get; } = new(
        Nutcracker.Repository,
        Nutcracker.Commit,
        Nutcracker.LocalFolder,
        [.. Subjects.SelectMany(s => new[]
        {
            Nutcracker.File(FolderOf(s.Subject), "dev", s.DevSha256, localGroup: "mmlu"),
            Nutcracker.File(FolderOf(s.Subject), "test", s.TestSha256, localGroup: "mmlu"),
        })],
        "MIT (MMLU data; " + Nutcracker.PackagingLicence + ")",
        """
        @inproceedings{hendrycks2020measuring,
          title={Measuring Massive Multitask Language Understanding},
          author={Hendrycks, Dan and Burns, Collin and Basart, Steven and Zou, Andy and Mazeika, Mantas and Song, Dawn and Steinhardt, Jacob},
          booktitle={International Conference on Learning Representations},
          year={2020}
        }
        """);

    public string FollowsLmEval => "lm_eval/tasks/mmlu/default/_default_template_yaml@4e7e0d4";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "Items come from nutcracker-db's mmlu-<subject>/{dev,test}.json (Hendrycks' original CSVs), not the Hugging Face "
        + "cais/mmlu copy lm-eval loads; the five dev examples are taken in the file's order, as first_n takes cais/mmlu's. "
        + "Item ids are the row index (per subject), <subject>-<index> in the pooled suite.",
        "lm-eval's subject yaml files (mmlu_<subject>.yaml, including _default_template_yaml) all give the description "
        + "\"The following are multiple choice questions (with answers) about <subject with spaces>.\\n\\n\": it is the "
        + "system text without its last \"\\n\", which the plain rendering adds back. In a chat rendering it is the "
        + "system turn of the subject suites, as lm-eval's; the pooled suite puts the whole preamble into the user turn.",
        "lm-eval runs MMLU 0-shot unless --num_fewshot 5 is given; the catalogue fixes the 5-shot setting the issue and "
        + "the published MMLU figures use.",
    ];

    /// <summary><c>high_school_biology</c> to <c>mmlu-high-school-biology</c>: nutcracker's folder and the suite name.</summary>
    internal static string FolderOf(string subject) => "mmlu-" + subject.Replace('_', '-');

    /// <summary>lm-eval's description for a subject, with its trailing blank line.</summary>
    internal static string DescriptionOf(string subject) =>
        $"The following are multiple choice questions (with answers) about {subject.Replace('_', ' ')}.\n\n";

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var subjectSuites = ImmutableArray.CreateBuilder<ConvertedSuite>(Subjects.Length + 1);
        var pooled = ImmutableArray.CreateBuilder<SuiteItem>();
        foreach (var (subject, _, _) in Subjects)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var folder = FolderOf(subject);
            var dev = Nutcracker.ReadRows(files, $"db/{folder}/dev.json", expectedOptions: 4);
            var test = Nutcracker.ReadRows(files, $"db/{folder}/test.json", expectedOptions: 4);
            if (dev.Length < FewShotCount)
            {
                throw new InvalidDataException($"db/{folder}/dev.json: {dev.Length} rows, {FewShotCount} few-shot examples needed");
            }
            var prompt = new PromptTemplate(
                QueryTemplate,
                // The plain rendering appends "\n" to the system text, giving back lm-eval's "\n\n".
                DescriptionOf(subject)[..^1],
                [.. dev.Take(FewShotCount).Select(row => ToItem("dev-" + Nutcracker.RowId(row.Index), row, []))],
                "\n\n");
            var items = test.Select(row => ToItem(Nutcracker.RowId(row.Index), row, [])).ToImmutableArray();
            subjectSuites.Add(new ConvertedSuite(Definition(folder, $"MMLU {subject.Replace('_', ' ')}", prompt), items));

            var preamble = Preamble(prompt);
            pooled.AddRange(test.Select(row => ToItem($"{folder["mmlu-".Length..]}-{Nutcracker.RowId(row.Index)}", row,
                [("preamble", preamble), ("subject", subject)])));
        }
        var pooledPrompt = new PromptTemplate("{{preamble}}" + QueryTemplate, null, [], "\n");
        var pooledSuite = new ConvertedSuite(Definition(Name, "MMLU, all 57 subjects pooled", pooledPrompt), pooled.ToImmutable());
        return [pooledSuite, .. subjectSuites];
    }

    /// <summary>Everything the plain rendering puts before the item: description, then each example with its answer.</summary>
    private static string Preamble(PromptTemplate prompt)
    {
        var text = new StringBuilder(prompt.System).Append('\n');
        foreach (var example in prompt.FewShot)
        {
            text.Append(PromptRenderer.RenderTemplate(prompt.Template, example)).Append(example.Target).Append(prompt.FewShotSeparator);
        }
        return text.ToString();
    }

    private static SuiteItem ToItem(string id, NutcrackerRow row, IEnumerable<(string Name, string Value)> extra)
    {
        ImmutableArray<string> choices = [.. Letters.Select(l => " " + l)];
        return Nutcracker.Item(id,
            [
                ("question", Nutcracker.PyStrip(row.Centerpiece)),
                ("option_a", row.Options[0]),
                ("option_b", row.Options[1]),
                ("option_c", row.Options[2]),
                ("option_d", row.Options[3]),
                .. extra,
            ],
            choices[row.CorrectIndex], choices);
    }

    private static SuiteDefinition Definition(string name, string title, PromptTemplate prompt) => new(
        name, 1, SuiteKind.Open,
        $"{title}: 5-shot from the dev split as lm-eval's mmlu (default), letter A-D by log-likelihood; acc. Open: ranked, no pass line.",
        RequestKind.LogLikelihood, prompt, null, Nutcracker.ChoiceScorer(), null, ImmutableSortedDictionary<string, string>.Empty);
}
