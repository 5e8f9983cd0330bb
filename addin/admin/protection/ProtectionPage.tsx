/** The Protection section: the tenant's mode and policies, the quarantine, and the detections log, one at a time. */
import { Tab, TabList } from '@fluentui/react-components';
import { useState } from 'react';
import { protection } from '../client';
import { PageHead, Show, useLoad } from '../common';
import type { Me } from '../contract';
import { DetectionsCard, windowOfHash } from './DetectionsCard';
import { ModeCard } from './ModeCard';
import { PoliciesCard } from './PoliciesCard';
import { QuarantineCard } from './QuarantineCard';

type Part = 'policies' | 'quarantine' | 'detections';

export function ProtectionPage({ me }: { me: Me }) {
  // A link to the detections of a time window (the post-incident report's) opens them filtered.
  const [linked] = useState(() => windowOfHash(window.location.hash));
  const [part, setPart] = useState<Part>(linked ? 'detections' : 'policies');
  const [list, reload] = useLoad(protection.policies);
  return (
    <section aria-labelledby="page-title" style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
      <PageHead title="Protection" />
      <TabList selectedValue={part} onTabSelect={(_, d) => setPart(d.value as Part)} aria-label="Protection parts" style={{ flexWrap: 'wrap' }}>
        <Tab value="policies">Mode and policies</Tab>
        <Tab value="quarantine">Quarantine</Tab>
        <Tab value="detections">Detections</Tab>
      </TabList>
      {part === 'policies' && (
        <Show value={list} label="Loading the policies…">
          {(data) => {
            const def = data.policies.find((p) => p.isDefault)!;
            return (
              <>
                <ModeCard key={data.mode} me={me} mode={data.mode} policy={def} onChanged={() => void reload()} />
                <PoliciesCard me={me} policies={data.policies} onChanged={() => void reload()} />
              </>
            );
          }}
        </Show>
      )}
      {part === 'quarantine' && <QuarantineCard me={me} />}
      {part === 'detections' && <DetectionsCard initial={linked} />}
    </section>
  );
}
