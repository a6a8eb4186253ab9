import { models, type Model } from '@cairn/protocol';
import { call } from '../../api/client';
import { LabelsEditor } from '../../components/LabelsEditor';

/** Label → class id. Editable while the model is a draft; ids must be unique integers. */
export function LabelsTab({ model, reload }: { model: Model; reload: () => void }) {
  return (
    <LabelsEditor
      labels={model.labels}
      editable={!model.ready}
      readOnlyNote="Published models are read-only."
      onSave={async (labels) => {
        await call(models.edit, { model: model.id, labels });
        reload();
      }}
    />
  );
}
